"""One turn of a conversation: what the steps share, and how the steps are chained.

Steps have aiogram's middleware shape: each gets the turn and the next step, and stops the
pipeline by returning without calling it. Steps never send; they append replies, a ticket
request or a draft to the turn, and the manager stores them with the turn's results.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.hours import Schedule
from bot.language import LanguageDetector
from bot.texts import Text, render
from bot.triage import raise_to
from bot.types import (
    AIUsage,
    AnsweredBy,
    ConversationView,
    FaqMatch,
    KnowledgeSearch,
    MessageView,
    OutboundReply,
    TicketPriority,
    TicketRequest,
    TurnResult,
)

if TYPE_CHECKING:
    from bot.ai import AIResponder


@dataclass(frozen=True, slots=True)
class Services:
    """What steps may use, handed in by the manager instead of imported."""

    knowledge: KnowledgeSearch
    detector: LanguageDetector
    company_name: str
    ai: AIResponder | None = None
    hours: Schedule | None = None


@dataclass(slots=True)
class Turn:
    message: MessageView
    conversation: ConversationView
    services: Services
    language: str | None = None
    replies: list[OutboundReply] = field(default_factory=list)
    ticket: TicketRequest | None = None
    answered_by_faq: str | None = None
    answered_by: AnsweredBy | None = None
    rating: tuple[int, int] | None = None
    draft: OutboundReply | None = None
    usage: AIUsage | None = None
    faq_candidates: tuple[FaqMatch, ...] | None = None
    """The FAQ entries closest to the question (searched once per turn)."""
    priority_floor: TicketPriority = TicketPriority.NORMAL
    """An upset or urgent customer: any ticket of this turn gets at least this priority."""

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
            priority=raise_to(priority, self.priority_floor),
            category=category,
            subject=" ".join(self.message.text.split())[:200],
        )

    def team_back(self) -> str | None:
        """When people are next at work, in the customer's language; None if they are now."""
        hours = self.services.hours
        now = datetime.now(UTC)
        if hours is None or hours.is_open(now):
            return None
        return hours.describe_return(now, self.language)

    def tell_handed_off(self, key: Text = Text.HANDOFF_NOTICE) -> None:
        """Tell the customer a person takes over, and when, if the team is away now."""
        self.say(key)
        when = self.team_back()
        if when is not None:
            self.say(Text.TEAM_BACK, when=when)

    def spent(self, usage: AIUsage) -> None:
        self.usage = usage if self.usage is None else self.usage + usage

    def result(self) -> TurnResult:
        return TurnResult(
            inbound_message_id=self.message.id,
            conversation_id=self.conversation.id,
            replies=tuple(self.replies),
            language=self.language,
            ticket=self.ticket,
            answered_by_faq=self.answered_by_faq,
            rating=self.rating,
            draft=self.draft,
            answered_by=self.answered_by,
            usage=self.usage,
        )


NextStep = Callable[[Turn], Awaitable[None]]
Step = Callable[[Turn, NextStep], Awaitable[None]]


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
