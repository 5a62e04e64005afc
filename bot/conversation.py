"""The conversation pipeline: one customer message in, the turn's decisions out.

Steps have aiogram's middleware shape: each gets the turn and the next step, and stops the
pipeline by returning without calling it. Steps never send; they append replies and a
ticket request to the turn, and the manager stores them with the turn's results.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.handoff import asks_for_person
from bot.language import LanguageDetector
from bot.texts import Text, render
from bot.types import (
    ConversationView,
    HandoffState,
    InboundKind,
    KnowledgeSearch,
    MessageView,
    OutboundReply,
    TicketPriority,
    TicketRequest,
    TurnResult,
)


@dataclass(frozen=True, slots=True)
class Services:
    """What steps may use, handed in by the manager instead of imported."""

    knowledge: KnowledgeSearch
    detector: LanguageDetector
    company_name: str


@dataclass(slots=True)
class Turn:
    message: MessageView
    conversation: ConversationView
    services: Services
    language: str | None = None
    replies: list[OutboundReply] = field(default_factory=list)
    ticket: TicketRequest | None = None
    answered_by_faq: str | None = None
    rating: tuple[int, int] | None = None

    def say(self, key: Text, **values: object) -> None:
        """Append one of the bot's own sentences, in the customer's language."""
        self.replies.append(OutboundReply(render(key, self.language, **values)))

    def hand_off(
        self,
        reason: str,
        *,
        priority: TicketPriority = TicketPriority.NORMAL,
        category: str | None = None,
    ) -> None:
        self.ticket = TicketRequest(
            reason=reason,
            priority=priority,
            category=category,
            subject=" ".join(self.message.text.split())[:200],
        )

    def result(self) -> TurnResult:
        return TurnResult(
            inbound_message_id=self.message.id,
            conversation_id=self.conversation.id,
            replies=tuple(self.replies),
            language=self.language,
            ticket=self.ticket,
            answered_by_faq=self.answered_by_faq,
            rating=self.rating,
        )


NextStep = Callable[[Turn], Awaitable[None]]
Step = Callable[[Turn, NextStep], Awaitable[None]]


async def detect_language(turn: Turn, call_next: NextStep) -> None:
    """Pick the reply language; short replies like "ok" keep the conversation's language."""
    turn.language = turn.services.detector.detect(
        turn.message.text,
        hint=turn.conversation.language_hint,
        previous=turn.conversation.language or turn.conversation.customer.language,
    )
    await call_next(turn)


async def greet_on_start(turn: Turn, call_next: NextStep) -> None:
    """A customer opening the chat is greeted, never handed off."""
    if turn.message.kind is not InboundKind.START:
        await call_next(turn)
        return
    if turn.conversation.handoff is HandoffState.BOT:
        turn.say(Text.GREETING, company=turn.services.company_name)


async def human_takeover(turn: Turn, call_next: NextStep) -> None:
    """Keep the bot quiet while the conversation waits for or is with a person."""
    if turn.conversation.handoff is not HandoffState.BOT:
        return
    if not turn.conversation.ai_allowed:
        turn.hand_off("automatic answers are switched off for this customer")
        turn.say(Text.HANDOFF_NOTICE)
        return
    await call_next(turn)


async def satisfaction_answer(turn: Turn, call_next: NextStep) -> None:
    """The answer to "how satisfied are you?": a button, or a bare 1-5 after closing."""
    pending = turn.conversation.rating_ticket_id
    score = _score(turn.message, pending) if pending is not None else None
    if pending is not None and score is not None:
        turn.rating = (pending, score)
        turn.say(Text.RATING_THANKS)
        return
    if turn.message.kind is InboundKind.BUTTON:
        return  # an old or unknown button: nothing to answer
    await call_next(turn)


def _score(message: MessageView, ticket_id: int) -> int | None:
    if message.kind is InboundKind.BUTTON:
        parts = (message.action or "").split(":")
        if len(parts) == 3 and parts[0] == "rate" and parts[1] == str(ticket_id):
            return _digit(parts[2])
        return None
    return _digit(message.text)


def _digit(text: str) -> int | None:
    text = unicodedata.normalize("NFKC", text).strip().rstrip(".!").removesuffix("/5").strip()
    return int(text) if len(text) == 1 and text in "12345" else None


async def files_for_people(turn: Turn, call_next: NextStep) -> None:
    """The bot reads only text: files without a question go to the team."""
    if turn.message.attachments and not turn.message.text.strip():
        turn.hand_off("customer sent a file")
        turn.say(Text.ATTACHMENT_TEXT_ONLY)
        return
    await call_next(turn)


async def person_requested(turn: Turn, call_next: NextStep) -> None:
    """An explicit request for a human always wins over an automatic answer."""
    if asks_for_person(turn.message.text):
        turn.hand_off("customer asked for a person")
        turn.say(Text.HANDOFF_NOTICE)
        return
    await call_next(turn)


async def answer_from_faq(turn: Turn, call_next: NextStep) -> None:
    """A confident FAQ match answers at once, in the customer's language when we have it."""
    match = turn.services.knowledge.best_match(turn.message.text, turn.language)
    if match is None:
        await call_next(turn)
        return
    turn.replies.append(OutboundReply(match.entry.answer))
    turn.answered_by_faq = match.entry.faq_id


async def hand_off_unanswered(turn: Turn, call_next: NextStep) -> None:
    """Nothing could answer: tell the customer honestly and open a ticket."""
    turn.hand_off("no automatic answer")
    turn.say(Text.NO_ANSWER_TICKET)


DEFAULT_PIPELINE: tuple[Step, ...] = (
    detect_language,
    greet_on_start,
    human_takeover,
    satisfaction_answer,
    files_for_people,
    person_requested,
    answer_from_faq,
    hand_off_unanswered,
)


async def _end(turn: Turn) -> None:
    return None


def _link(step: Step, call_next: NextStep) -> NextStep:
    async def run(turn: Turn) -> None:
        await step(turn, call_next)

    return run


def build_pipeline(steps: Sequence[Step]) -> NextStep:
    """Chain the steps once, so a turn is a single call."""
    chain: NextStep = _end
    for step in reversed(steps):
        chain = _link(step, chain)
    return chain
