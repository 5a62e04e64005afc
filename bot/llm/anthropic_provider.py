"""Claude through the Messages API, with the stable prefix cached.

Tools come before the system prompt in Anthropic's cache order, so one `cache_control`
breakpoint on the stable system block caches tools and rules together; the per-question
context follows in a second, uncached system block.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import anthropic
from anthropic import AsyncAnthropic
from anthropic.types import Message, MessageParam, TextBlockParam, ToolParam

from bot.errors import LLMKeyRejected, LLMTimeout, LLMUnavailable
from bot.llm.base import (
    SDKProvider,
    log_verification_problem,
    verification_timeout,
)
from bot.llm.loop import CallResult, Exchange, RequestedCall, Round
from bot.llm.pricing import PriceBook
from bot.llm.settings import ProviderConfig
from bot.llm.turns import conversation_turns
from bot.llm.types import LLMRequest, Speaker, Usage

DEFAULT_BASE_URL = "https://api.anthropic.com"
NAME = "anthropic"


class AnthropicProvider(SDKProvider):
    def __init__(self, config: ProviderConfig, prices: PriceBook) -> None:
        super().__init__(config, prices)
        self._client = AsyncAnthropic(
            # aiohttp instead of httpx2: about a third of the CPU per request under load
            http_client=anthropic.DefaultAioHttpClient(),
            api_key=config.api_key,
            base_url=config.base_url or DEFAULT_BASE_URL,
            timeout=config.timeout,
            max_retries=1,
        )

    def _exchange(self, request: LLMRequest, max_output_tokens: int) -> Exchange:
        return _MessagesExchange(self._client, self.config, request, max_output_tokens)

    async def verify(self) -> None:
        try:
            limit = verification_timeout(self.config)
            with translate_errors(limit):
                async with asyncio.timeout(limit):
                    await self._client.with_options(max_retries=0).models.retrieve(self.model)
        except LLMKeyRejected:
            raise
        except (LLMUnavailable, LLMTimeout) as exc:
            log_verification_problem(self.name, self.model, exc)

    async def close(self) -> None:
        await self._client.close()


class _MessagesExchange:
    def __init__(
        self,
        client: AsyncAnthropic,
        config: ProviderConfig,
        request: LLMRequest,
        max_output_tokens: int,
    ) -> None:
        self._client = client
        self._config = config
        self._max_tokens = max_output_tokens
        self._system: list[TextBlockParam] = [
            {"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}
        ]
        if request.context:
            self._system.append({"type": "text", "text": request.context})
        self._tools: list[ToolParam] = [
            {
                "name": tool.name.value,
                "description": tool.description,
                "input_schema": dict(tool.parameters),
            }
            for tool in request.tools
        ]
        self._messages: list[MessageParam] = []
        for turn in conversation_turns(request):
            if turn.speaker is Speaker.CUSTOMER:
                self._messages.append({"role": "user", "content": turn.text})
            else:
                self._messages.append({"role": "assistant", "content": turn.text})
        self._last: Message | None = None

    async def send(self, *, tools_allowed: bool) -> Round:
        extra: dict[str, Any] = {}
        if self._tools:
            extra["tools"] = self._tools
            extra["tool_choice"] = {"type": "auto" if tools_allowed else "none"}
        with translate_errors(self._config.timeout):
            async with asyncio.timeout(self._config.timeout):
                message = await self._client.messages.create(
                    model=self._config.model,
                    max_tokens=self._max_tokens,
                    system=self._system,
                    messages=self._messages,
                    **extra,
                )
        self._last = message
        text = "".join(block.text for block in message.content if block.type == "text")
        calls = tuple(
            RequestedCall(
                block.id, block.name, block.input if isinstance(block.input, dict) else None
            )
            for block in message.content
            if block.type == "tool_use"
        )
        usage = message.usage
        return Round(
            text=text,
            calls=calls,
            usage=Usage(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_input_tokens or 0,
                cache_write_tokens=usage.cache_creation_input_tokens or 0,
            ),
            model=message.model,
            truncated=message.stop_reason == "max_tokens",
        )

    def answer(self, results: Sequence[CallResult]) -> None:
        assert self._last is not None, "answer() follows send()"
        self._messages.append({"role": "assistant", "content": self._last.content})
        self._messages.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": result.call.call_id,
                        "content": result.content,
                        "is_error": result.failed,
                    }
                    for result in results
                ],
            }
        )


@contextmanager
def translate_errors(timeout: float) -> Iterator[None]:
    """Turn SDK errors into ours; the messages carry status and type, never keys or text."""
    try:
        yield
    except (TimeoutError, anthropic.APITimeoutError) as exc:
        raise LLMTimeout(f"{NAME}: no answer within {timeout:g} s", provider=NAME) from exc
    except anthropic.APIConnectionError as exc:
        raise LLMUnavailable(
            f"{NAME}: cannot connect ({exc.request.url.host})", provider=NAME
        ) from exc
    except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
        raise LLMKeyRejected(
            f"{NAME}: the API key was rejected ({exc.status_code})",
            provider=NAME,
            status=exc.status_code,
        ) from exc
    except anthropic.APIStatusError as exc:
        raise LLMUnavailable(_status_message(exc), provider=NAME, status=exc.status_code) from exc
    except anthropic.AnthropicError as exc:  # a malformed response, a client-side problem
        raise LLMUnavailable(f"{NAME}: {type(exc).__name__}", provider=NAME) from exc


def _status_message(exc: anthropic.APIStatusError) -> str:
    message = f"{NAME}: HTTP {exc.status_code} {exc.type or 'error'}"
    if exc.status_code in (400, 404, 413, 422) and exc.api_message:
        message += f": {exc.api_message[:200]}"
    if exc.request_id:
        message += f" (request {exc.request_id})"
    return message
