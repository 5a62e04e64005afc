"""The language model's part of a turn: a grounded prompt, the tools, and the policy on what
may go to the customer without a person.

- Grounding: the best FAQ entries and document passages for the question, what we know of
  the customer, and the earlier turns; `search_knowledge` looks further when asked.
- Auto-send (`HELPLINE_AI_AUTO_SEND`): `all` sends every answer; `safe` only answers the
  model marked safe in a safe category; `never` makes every answer a draft for staff.
- When: always, or only outside staffed hours (the after-hours responder).
- Translation for agents both ways, and FAQ answers lacking the customer's language.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from bot.errors import LLMError
from bot.hours import Schedule
from bot.llm import LLMProvider, LLMReply, Passage, PromptBuilder, ToolSpec, Translation
from bot.llm.tools import support_tools
from bot.types import (
    AIUsage,
    ConversationView,
    DocumentSearch,
    FaqMatch,
    KnowledgeSearch,
    MessageView,
    TicketView,
)

log = logging.getLogger(__name__)

GROUNDING_FAQ = 3
GROUNDING_PASSAGES = 3
SEARCH_RESULTS = 4
HISTORY_MESSAGES = 40
OTHER_CATEGORY = "other"
RELATED_FAQ_SCORE = 0.3

LoadHistory = Callable[[int, int], Awaitable[list[MessageView]]]


class AutoSend(StrEnum):
    ALL = "all"
    SAFE = "safe"
    NEVER = "never"


class AIMode(StrEnum):
    ALWAYS = "always"
    AFTER_HOURS = "after_hours"


@dataclass(frozen=True, slots=True)
class AIPolicy:
    auto_send: AutoSend = AutoSend.ALL
    safe_categories: frozenset[str] = frozenset({"password_reset", "app_login"})
    mode: AIMode = AIMode.ALWAYS
    agent_language: str = "en"

    def may_send(self, reply: LLMReply, labels: frozenset[str]) -> bool:
        """Whether this answer may reach the customer without a person checking it."""
        if self.auto_send is AutoSend.ALL:
            return True
        if self.auto_send is AutoSend.NEVER:
            return False
        return reply.marked_safe and bool(labels & self.safe_categories)


def usage_of(result: LLMReply | Translation) -> AIUsage:
    usage = result.usage
    return AIUsage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=result.cost_usd,
        model=result.model,
    )


@dataclass
class AIResponder:
    builder: PromptBuilder
    knowledge: KnowledgeSearch
    load_history: LoadHistory
    policy: AIPolicy = field(default_factory=AIPolicy)
    documents: DocumentSearch | None = None
    hours: Schedule | None = None
    provider: LLMProvider | None = None
    """Set at start, once the configured provider answered (None: FAQ and templates only)."""

    def staffed(self, now: datetime | None = None) -> bool:
        """People are at work now (always true when no hours are configured)."""
        return self.hours is None or self.hours.is_open(now or datetime.now(UTC))

    def answers_now(self, now: datetime | None = None) -> bool:
        if self.provider is None:
            return False
        return self.policy.mode is AIMode.ALWAYS or not self.staffed(now)

    def team_back(self, language: str | None, now: datetime | None = None) -> str | None:
        """ "tomorrow at 07:00" when people are away now; None while they are at work."""
        moment = now or datetime.now(UTC)
        if self.hours is None or self.hours.is_open(moment):
            return None
        return self.hours.describe_return(moment, language)

    async def answer(
        self,
        message: MessageView,
        conversation: ConversationView,
        language: str,
        *,
        faq: Sequence[FaqMatch] | None = None,
        open_tickets: Sequence[TicketView] = (),
    ) -> tuple[LLMReply, frozenset[str]]:
        """The model's answer and what the question is about (for the safe-send policy).

        `faq` is the FAQ search the turn already made (searched here when None)."""
        assert self.provider is not None
        if faq is None:
            faq = await self.knowledge.search_off_loop(message.text, language, limit=GROUNDING_FAQ)
        passages = self._passages(message.text, language, GROUNDING_PASSAGES)
        history = await self.load_history(conversation.id, HISTORY_MESSAGES)
        request = self.builder.build(
            question=message,
            language=language,
            history=history,
            faq=faq,
            passages=passages,
            customer=conversation.customer,
            channel=conversation.address.channel,
            open_tickets=open_tickets,
        )
        reply = await self.provider.reply(request, search_knowledge=self._search(language))
        return reply, _labels(reply, faq)

    async def translate(self, text: str, language: str) -> Translation | None:
        """`text` in `language`, or None when there is no model or it failed (logged)."""
        if self.provider is None or not text.strip():
            return None
        try:
            return await self.provider.translate(text, language)
        except LLMError as exc:
            log.warning("translation into %s failed: %s", language, exc)
            return None

    def _passages(self, query: str, language: str | None, limit: int) -> list[Passage]:
        if self.documents is None:
            return []
        found = self.documents.search_passages(query, language, limit=limit)
        return [Passage(title=p.title, text=p.text, source=p.document) for p in found]

    def _search(self, language: str) -> Callable[[str], Awaitable[str]]:
        async def search(query: str) -> str:
            lines = []
            found = await self.knowledge.search_off_loop(query, language, limit=SEARCH_RESULTS)
            for match in found:
                entry = match.entry
                lines.append(f"FAQ: {entry.question}\n{entry.answer}")
            for passage in self._passages(query, language, SEARCH_RESULTS):
                lines.append(f"{passage.title}:\n{passage.text}")
            return "\n\n".join(lines) or "Nothing found."

        return search


def build_tools(policy: AIPolicy) -> tuple[ToolSpec, ...]:
    """The tool set, with the safe categories as the choices the model may name."""
    categories = sorted(policy.safe_categories | {OTHER_CATEGORY})
    return support_tools(categories=categories)


def _labels(reply: LLMReply, faq: Sequence[FaqMatch]) -> frozenset[str]:
    """What the question is about: the category the model named, else the closest FAQ
    entry's id and category (when it is close enough to count)."""
    named = {
        _label(value)
        for call in reply.tool_calls
        if isinstance(value := call.arguments.get("category"), str) and value.strip()
    }
    if reply.handoff is not None and reply.handoff.category:
        named.add(_label(reply.handoff.category))
    if named:
        return frozenset(named - {OTHER_CATEGORY})
    if faq and faq[0].score >= RELATED_FAQ_SCORE:
        entry = faq[0].entry
        return frozenset(_label(label) for label in (entry.faq_id, entry.category) if label)
    return frozenset()


def _label(value: str) -> str:
    return value.strip().lower().replace(" ", "_").replace("-", "_")
