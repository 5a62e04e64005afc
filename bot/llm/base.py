"""What the Anthropic and OpenAI providers share: the reply and translate flow, accounting."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import replace

from bot.errors import LLMError, LLMUnavailable
from bot.llm.loop import Exchange, run_tool_loop
from bot.llm.pricing import PriceBook
from bot.llm.prompt import translation_request
from bot.llm.settings import ProviderConfig
from bot.llm.types import LLMReply, LLMRequest, SearchKnowledge, ToolName, Translation, Usage

log = logging.getLogger(__name__)

MAX_VERIFICATION_SECONDS = 10.0


class SDKProvider(ABC):
    """A provider reached through its vendor's SDK; subclasses speak the wire format."""

    def __init__(self, config: ProviderConfig, prices: PriceBook) -> None:
        self.config = config
        self._prices = prices

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def model(self) -> str:
        return self.config.model

    @abstractmethod
    def _exchange(self, request: LLMRequest, max_output_tokens: int) -> Exchange: ...

    async def reply(
        self, request: LLMRequest, *, search_knowledge: SearchKnowledge | None = None
    ) -> LLMReply:
        started = time.perf_counter()
        if search_knowledge is None and any(
            tool.name is ToolName.SEARCH_KNOWLEDGE for tool in request.tools
        ):
            tools = tuple(
                tool for tool in request.tools if tool.name is not ToolName.SEARCH_KNOWLEDGE
            )
            request = replace(request, tools=tools)
        offered = {tool.name for tool in request.tools}
        max_output = request.max_output_tokens or self.config.max_output_tokens
        outcome = await run_tool_loop(
            self._exchange(request, max_output),
            offered=offered,
            search=search_knowledge,
            max_rounds=self.config.max_tool_rounds,
        )
        cost = self._prices.cost(outcome.model, outcome.usage)
        log.debug(
            "llm reply: provider=%s model=%s rounds=%d tools=%d in=%d out=%d cache_read=%d "
            "cache_write=%d ms=%.0f",
            self.name,
            outcome.model,
            outcome.rounds,
            len(outcome.tool_calls),
            outcome.usage.input_tokens,
            outcome.usage.output_tokens,
            outcome.usage.cache_read_tokens,
            outcome.usage.cache_write_tokens,
            (time.perf_counter() - started) * 1000,
        )
        return LLMReply(
            text=outcome.text,
            tool_calls=outcome.tool_calls,
            handoff=outcome.handoff,
            marked_safe=outcome.marked_safe,
            usage=outcome.usage,
            model=outcome.model,
            provider=self.name,
            cost_usd=cost,
            rounds=outcome.rounds,
            truncated=outcome.truncated,
        )

    async def translate(self, text: str, target_language: str) -> Translation:
        if not text.strip():
            return Translation(text, target_language, Usage(), self.model, self.name, 0.0)
        reply = await self.reply(translation_request(text, target_language))
        if not reply.text:
            raise LLMUnavailable(f"{self.name}: empty translation", provider=self.name)
        return Translation(
            text=reply.text,
            target_language=target_language,
            usage=reply.usage,
            model=reply.model,
            provider=reply.provider,
            cost_usd=reply.cost_usd,
        )

    @abstractmethod
    async def verify(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...


def log_verification_problem(provider: str, model: str, problem: LLMError) -> None:
    """A start-up check that failed for another reason than the key: warn, keep going."""
    if problem.status == 404:
        log.warning("%s does not know the model %s: check HELPLINE_LLM_MODEL", provider, model)
    else:
        log.warning(
            "%s could not be checked at start (%s); will try per request", provider, problem
        )


def connection_refused(error: BaseException) -> bool:
    """Whether a transport error was caused by a failed connect rather than a slow answer."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and not isinstance(current, TimeoutError):
            return True
        current = current.__cause__ or current.__context__
    return False


def verification_timeout(config: ProviderConfig) -> float:
    """The start-up check should not hold up the start for a whole request timeout."""
    return min(config.timeout, MAX_VERIFICATION_SECONDS)
