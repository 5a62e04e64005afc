"""The conversation pipeline: one customer message in, the turn's decisions out.

The order lives in `DEFAULT_PIPELINE`; each step is short and documented. The language
model's steps are in `bot.ai_steps`.
"""

from __future__ import annotations

import unicodedata

from bot.ai_steps import answer_from_faq, answer_with_llm, hand_off_unanswered, sensitive_matters
from bot.handoff import asks_for_person
from bot.texts import Text
from bot.turn import NextStep, Services, Step, Turn, build_pipeline
from bot.types import HandoffState, InboundKind, MessageView

__all__ = ["DEFAULT_PIPELINE", "NextStep", "Services", "Step", "Turn", "build_pipeline"]


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
        turn.tell_handed_off()
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
        turn.tell_handed_off(Text.ATTACHMENT_TEXT_ONLY)
        return
    await call_next(turn)


async def person_requested(turn: Turn, call_next: NextStep) -> None:
    """An explicit request for a human always wins over an automatic answer."""
    if asks_for_person(turn.message.text):
        turn.hand_off("customer asked for a person")
        turn.tell_handed_off()
        return
    await call_next(turn)


DEFAULT_PIPELINE: tuple[Step, ...] = (
    detect_language,
    greet_on_start,
    human_takeover,
    satisfaction_answer,
    files_for_people,
    sensitive_matters,
    person_requested,
    answer_from_faq,
    answer_with_llm,
    hand_off_unanswered,
)
