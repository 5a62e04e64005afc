"""What we ask a language model and what comes back, independent of any provider's SDK.

The pipeline builds an `LLMRequest` (usually with `bot.llm.prompt.PromptBuilder`), hands it
to an `LLMProvider` and gets an `LLMReply`: the final text, the tools the model called, and
the tokens and money it cost. The provider runs the whole tool loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from bot.types import TicketRequest


class Speaker(StrEnum):
    CUSTOMER = "customer"
    ASSISTANT = "assistant"
    """Us, as the customer sees it: the bot or an agent."""


@dataclass(frozen=True, slots=True)
class ChatTurn:
    speaker: Speaker
    text: str


class ToolName(StrEnum):
    SEARCH_KNOWLEDGE = "search_knowledge"
    HANDOFF_TO_HUMAN = "handoff_to_human"
    MARK_ANSWER_AS_SAFE = "mark_answer_as_safe"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model; `parameters` is a JSON Schema object."""

    name: ToolName
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """One customer question with everything the model should see.

    `system` is the stable prefix (the same bytes for every question, so providers can cache
    it); `context` is the per-question grounding (FAQ entries, passages, customer facts,
    reply language); `history` holds the earlier turns, oldest first, without the question.
    """

    system: str
    question: str
    context: str = ""
    history: tuple[ChatTurn, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    max_output_tokens: int | None = None
    """None: the provider's configured limit."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool the model called, with its parsed arguments and what we answered."""

    name: str
    arguments: Mapping[str, Any]
    result: str
    failed: bool = False


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one or more requests. `input_tokens` excludes cache reads and writes."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )

    @property
    def prompt_tokens(self) -> int:
        """Every input token, cached or not."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class LLMReply:
    """The model's answer after its tool loop finished.

    `text` is what the model wrote last (it may be empty when it only handed off).
    `handoff` and `marked_safe` are the signals the model gave through its tools; the
    caller decides what they mean for the customer. `cost_usd` is None when no price is
    known for the model.
    """

    text: str
    tool_calls: tuple[ToolCall, ...]
    handoff: TicketRequest | None
    marked_safe: bool
    usage: Usage
    model: str
    provider: str
    cost_usd: float | None
    rounds: int
    truncated: bool = False
    """The text hit the output token limit."""


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    target_language: str
    usage: Usage
    model: str
    provider: str
    cost_usd: float | None


SearchKnowledge = Callable[[str], Awaitable[str]]
"""Runs `search_knowledge(query)` for the model; the text returned is the tool result."""


class LLMProvider(Protocol):
    """A language model behind one API (or several, with a fallback)."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    async def reply(
        self, request: LLMRequest, *, search_knowledge: SearchKnowledge | None = None
    ) -> LLMReply:
        """Answer one question, running tools for at most the configured number of rounds.

        `search_knowledge` is offered to the model only when a callback is given.

        Raises `LLMTimeout` or `LLMUnavailable` (after one retry); never an SDK error.
        """

    async def translate(self, text: str, target_language: str) -> Translation:
        """Translate `text` into the language with code `target_language` (`de`, `zh`, …)."""

    async def verify(self) -> None:
        """Check the key at start: raises `LLMKeyRejected`; other problems are only logged."""

    async def close(self) -> None: ...
