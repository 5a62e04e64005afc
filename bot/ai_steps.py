"""The pipeline's answering steps: sensitive matters first, then the FAQ, then the model.

A sensitive question is never answered automatically. A confident FAQ match answers with
no model call at all. The model answers what is left, hands off through its tool, or
writes a draft for staff when the auto-send policy asks for caution; when it fails, the
customer gets a polite holding message and the question a ticket.
"""

from __future__ import annotations

import logging

from bot.ai import GROUNDING_FAQ, AutoSend, usage_of
from bot.errors import LLMError
from bot.texts import Text
from bot.triage import triage
from bot.turn import NextStep, Turn
from bot.types import AnsweredBy, OutboundReply, TicketPriority

log = logging.getLogger(__name__)

FAQ_CANDIDATES = GROUNDING_FAQ


async def sensitive_matters(turn: Turn, call_next: NextStep) -> None:
    """Security, data loss, outages, billing disputes, legal matters, threats: to people.

    An upset or urgent tone does not stop the turn, but raises any ticket it opens.
    """
    found = triage(turn.message.text)
    turn.priority_floor = found.priority
    if found.sensitive is not None:
        turn.hand_off(
            f"sensitive matter: {found.sensitive.replace('_', ' ')}",
            priority=found.priority,
            category=found.sensitive,
        )
        turn.tell_handed_off(Text.SENSITIVE_NOTICE)
        return
    await call_next(turn)


async def answer_from_faq(turn: Turn, call_next: NextStep) -> None:
    """A confident FAQ match answers at once, in the customer's language when we have it
    (or translated by the model when only other languages exist)."""
    knowledge = turn.services.knowledge
    ai = turn.services.ai
    # The runners-up matter only as grounding for a model; without one, the best will do.
    wanted = FAQ_CANDIDATES if ai is not None and ai.provider is not None else 1
    candidates = await knowledge.search_off_loop(turn.message.text, turn.language, limit=wanted)
    turn.faq_candidates = tuple(candidates)  # the model's grounding, if it comes to that
    match = candidates[0] if candidates and candidates[0].score >= knowledge.threshold else None
    if match is None:
        await call_next(turn)
        return
    answer = match.entry.answer
    if match.needs_translation and ai is not None and turn.language:
        translated = await ai.translate(answer, turn.language)
        if translated is not None:
            answer = translated.text
            turn.spent(usage_of(translated))
    turn.replies.append(OutboundReply(answer))
    turn.answered_by_faq = match.entry.faq_id
    turn.answered_by = AnsweredBy.FAQ


async def answer_with_llm(turn: Turn, call_next: NextStep) -> None:
    """Ask the model; send, draft or hand off as the policy and the model's tools say."""
    ai = turn.services.ai
    if ai is None or not ai.answers_now():
        await call_next(turn)
        return
    language = turn.language or turn.services.detector.default
    ticket = turn.conversation.open_ticket
    try:
        reply, labels = await ai.answer(
            turn.message,
            turn.conversation,
            language,
            faq=turn.faq_candidates,
            open_tickets=(ticket,) if ticket else (),
        )
    except LLMError as exc:
        log.warning("no AI answer for message %d: %s", turn.message.id, exc)
        turn.hand_off("the AI could not answer", priority=TicketPriority.HIGH)
        turn.tell_handed_off(Text.HOLDING)
        return
    turn.spent(usage_of(reply))
    text = reply.text.strip()
    cautious = ai.policy.auto_send is not AutoSend.ALL
    if reply.handoff is not None:
        wanted = reply.handoff
        turn.hand_off(wanted.reason, priority=wanted.priority, category=wanted.category)
        if text and not cautious:
            turn.replies.append(OutboundReply(text))
            when = turn.team_back()
            if when is not None:
                turn.say(Text.TEAM_BACK, when=when)
        else:
            turn.tell_handed_off()  # in a cautious mode only our own words reach customers
        return
    if not text:
        await call_next(turn)  # nothing usable: as if there were no model
        return
    if ai.policy.may_send(reply, labels):
        turn.replies.append(OutboundReply(text))
        turn.answered_by = AnsweredBy.AI
        return
    turn.draft = OutboundReply(text)
    turn.hand_off("an AI answer is waiting for approval", category=min(labels, default=None))
    turn.tell_handed_off(Text.DRAFT_PENDING)


async def hand_off_unanswered(turn: Turn, call_next: NextStep) -> None:
    """Nothing could answer: tell the customer honestly (and when the team is back)."""
    turn.hand_off("no automatic answer")
    when = turn.team_back()
    if when is None:
        turn.say(Text.NO_ANSWER_TICKET)
    else:
        turn.say(Text.AFTER_HOURS_NOTICE, when=when)
