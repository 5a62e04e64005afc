"""OpenAI's Chat Completions API, and every server that imitates it (vLLM, Ollama, llama.cpp).

Chat Completions with `tools` / `tool_calls` is what OpenAI-compatible servers have in
common, so one provider covers OpenAI and self-hosted models. OpenAI caches long prompt
prefixes by itself; the stable rules go first in the system message so they can be reused.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam, ChatCompletionToolParam

from bot.errors import LLMKeyRejected, LLMTimeout, LLMUnavailable
from bot.llm.base import (
    SDKProvider,
    connection_refused,
    log_verification_problem,
    verification_timeout,
)
from bot.llm.loop import CallResult, Exchange, RequestedCall, Round
from bot.llm.pricing import PriceBook
from bot.llm.settings import ProviderConfig, is_openai_itself
from bot.llm.turns import conversation_turns
from bot.llm.types import LLMRequest, Speaker, Usage

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
NAME = "openai"


class OpenAIProvider(SDKProvider):
    def __init__(self, config: ProviderConfig, prices: PriceBook) -> None:
        super().__init__(config, prices)
        self._client = AsyncOpenAI(
            # aiohttp instead of httpx2: about a third of the CPU per request under load
            http_client=openai.DefaultAioHttpClient(),
            api_key=config.api_key,
            base_url=config.base_url or DEFAULT_BASE_URL,
            timeout=config.timeout,
            max_retries=1,
        )
        # OpenAI's reasoning models refuse `max_tokens`; most compatible servers know only it.
        self._limit_parameter = (
            "max_completion_tokens" if is_openai_itself(config.base_url) else "max_tokens"
        )

    def _exchange(self, request: LLMRequest, max_output_tokens: int) -> Exchange:
        return _ChatExchange(
            self._client, self.config, request, {self._limit_parameter: max_output_tokens}
        )

    async def verify(self) -> None:
        try:
            limit = verification_timeout(self.config)
            with translate_errors(limit):
                async with asyncio.timeout(limit):
                    page = await self._client.with_options(max_retries=0).models.list()
        except LLMKeyRejected:
            raise
        except (LLMUnavailable, LLMTimeout) as exc:
            if exc.status != 404:  # some compatible servers have no model list
                log_verification_problem(self.name, self.model, exc)
            return
        served = {model.id for model in page.data}
        if served and self.model not in served:
            log.warning(
                "%s does not list the model %s (it serves %s): check HELPLINE_LLM_MODEL",
                self.name,
                self.model,
                ", ".join(sorted(served)[:10]),
            )

    async def close(self) -> None:
        await self._client.close()


class _ChatExchange:
    def __init__(
        self,
        client: AsyncOpenAI,
        config: ProviderConfig,
        request: LLMRequest,
        limit: Mapping[str, int],
    ) -> None:
        self._client = client
        self._config = config
        self._limit = limit
        system = request.system + (f"\n\n{request.context}" if request.context else "")
        self._messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": system}]
        for turn in conversation_turns(request):
            if turn.speaker is Speaker.CUSTOMER:
                self._messages.append({"role": "user", "content": turn.text})
            else:
                self._messages.append({"role": "assistant", "content": turn.text})
        self._tools: list[ChatCompletionToolParam] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name.value,
                    "description": tool.description,
                    "parameters": dict(tool.parameters),
                },
            }
            for tool in request.tools
        ]
        self._last: ChatCompletion | None = None

    async def send(self, *, tools_allowed: bool) -> Round:
        extra: dict[str, Any] = dict(self._limit)
        if self._tools:
            extra["tools"] = self._tools
            extra["tool_choice"] = "auto" if tools_allowed else "none"
        with translate_errors(self._config.timeout):
            async with asyncio.timeout(self._config.timeout):
                # The SDK's own request method with the body as it goes on the wire:
                # `chat.completions.create` first walks every message against the typed
                # parameter schema, a fifth of the server's CPU per answer under load.
                completion = await self._client.post(
                    "/chat/completions",
                    body={"model": self._config.model, "messages": self._messages, **extra},
                    cast_to=ChatCompletion,
                )
        if not completion.choices:
            raise LLMUnavailable(f"{NAME}: the response had no choices", provider=NAME)
        self._last = completion
        choice = completion.choices[0]
        calls = tuple(
            RequestedCall(call.id, call.function.name, _arguments(call.function.arguments))
            for call in choice.message.tool_calls or ()
            if call.type == "function"
        )
        return Round(
            text=choice.message.content or "",
            calls=calls,
            usage=_usage(completion),
            model=completion.model or self._config.model,
            truncated=choice.finish_reason == "length",
        )

    def answer(self, results: Sequence[CallResult]) -> None:
        assert self._last is not None, "answer() follows send()"
        message = self._last.choices[0].message
        self._messages.append(
            {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [
                    {
                        "id": result.call.call_id,
                        "type": "function",
                        "function": {
                            "name": result.call.name,
                            "arguments": json.dumps(result.call.arguments or {}),
                        },
                    }
                    for result in results
                ],
            }
        )
        for result in results:
            self._messages.append(
                {"role": "tool", "tool_call_id": result.call.call_id, "content": result.content}
            )


def _arguments(raw: str | None) -> Mapping[str, Any] | None:
    if not raw or not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _usage(completion: ChatCompletion) -> Usage:
    usage = completion.usage
    if usage is None:
        return Usage()
    details = usage.prompt_tokens_details
    cached = (details.cached_tokens or 0) if details else 0
    written = (details.cache_write_tokens or 0) if details else 0
    return Usage(
        input_tokens=max(usage.prompt_tokens - cached - written, 0),
        output_tokens=usage.completion_tokens,
        cache_read_tokens=cached,
        cache_write_tokens=written,
    )


@contextmanager
def translate_errors(timeout: float) -> Iterator[None]:
    """Turn SDK errors into ours; the messages carry status and type, never keys or text."""
    try:
        yield
    except (TimeoutError, openai.APITimeoutError) as exc:
        if not connection_refused(exc):  # the aiohttp transport reports refusals as timeouts
            raise LLMTimeout(f"{NAME}: no answer within {timeout:g} s", provider=NAME) from exc
        raise LLMUnavailable(f"{NAME}: cannot connect", provider=NAME) from exc
    except openai.APIConnectionError as exc:
        raise LLMUnavailable(
            f"{NAME}: cannot connect ({exc.request.url.host})", provider=NAME
        ) from exc
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        raise LLMKeyRejected(
            f"{NAME}: the API key was rejected ({exc.status_code})",
            provider=NAME,
            status=exc.status_code,
        ) from exc
    except openai.APIStatusError as exc:
        raise LLMUnavailable(_status_message(exc), provider=NAME, status=exc.status_code) from exc
    except openai.OpenAIError as exc:  # a malformed response, a client-side problem
        raise LLMUnavailable(f"{NAME}: {type(exc).__name__}", provider=NAME) from exc


def _status_message(exc: openai.APIStatusError) -> str:
    message = f"{NAME}: HTTP {exc.status_code} {exc.code or exc.type or 'error'}"
    body = exc.body if isinstance(exc.body, dict) else {}
    detail = body.get("message") if isinstance(body.get("message"), str) else None
    if exc.status_code in (400, 404, 413, 422) and detail:
        message += f": {detail[:200]}"
    if exc.request_id:
        message += f" (request {exc.request_id})"
    return message
