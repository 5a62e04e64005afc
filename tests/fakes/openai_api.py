"""A local imitation of OpenAI's Chat Completions API (and so of vLLM, Ollama, llama.cpp).

`POST /v1/chat/completions` with `tools` / `tool_calls` and `role: tool` results, usage
with cached tokens, OpenAI's error bodies, `GET /v1/models`. It answers from the same
`Script` as the Anthropic fake (see `tests.fakes.anthropic_api`):

    async with FakeOpenAIAPI.running(script=script) as fake:
        ...  # OPENAI_BASE_URL=fake.base_url (it ends in /v1, like a local server's)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web

from tests.fakes.anthropic_api import (
    Answer,
    Failure,
    FakeLLMServer,
    ModelCall,
    Script,
    ToolResult,
    bearer_or_api_key,
    estimate_tokens,
)

API_KEY = "sk-openai-test"
MODELS = ("gpt-4.1-mini", "gpt-5-mini")

ERROR_CODES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


class FakeOpenAIAPI(FakeLLMServer):
    base_path = "/v1"

    def __init__(
        self,
        *,
        script: Script | None = None,
        api_key: str = API_KEY,
        models: Sequence[str] = MODELS,
    ) -> None:
        super().__init__(script=script, api_key=api_key, models=models)
        self._seen_systems: set[str] = set()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._list_models)
        return app

    async def _completions(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body is not JSON")
        problem = _protocol_problem(body)
        if problem is not None:
            return _error(400, problem)
        step = await self.answer(_model_call(request, body), bearer_or_api_key(request))
        if step is None:
            return _error(401, "Incorrect API key provided")
        if isinstance(step, Failure):
            headers = {} if step.retry_after is None else {"retry-after": f"{step.retry_after:g}"}
            return _error(step.status, step.message, **headers)
        return web.json_response(self._completion(body, step), headers={"x-request-id": "req_ok"})

    def _completion(self, body: Mapping[str, Any], answer: Answer) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": answer.text or None}
        if answer.tool_calls:
            message["tool_calls"] = [
                {
                    "id": self.next_id("call_"),
                    "type": "function",
                    "function": {"name": use.name, "arguments": json.dumps(dict(use.arguments))},
                }
                for use in answer.tool_calls
            ]
        finish = "tool_calls" if answer.tool_calls else "stop"
        if answer.truncated:
            finish = "length"
        return {
            "id": self.next_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": self._usage(body, answer),
        }

    def _usage(self, body: Mapping[str, Any], answer: Answer) -> dict[str, Any]:
        if answer.usage is not None:
            scripted = answer.usage
            prompt = scripted.input + scripted.cache_read + scripted.cache_write
            output = scripted.output
            cached = scripted.cache_read
        else:
            prompt = estimate_tokens({k: body.get(k) for k in ("tools", "messages")})
            output = estimate_tokens(answer.text) + 20 * len(answer.tool_calls)
            system = _text_of(body["messages"][0].get("content"))
            cached = estimate_tokens(system) if system in self._seen_systems else 0
            self._seen_systems.add(system)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": output,
            "total_tokens": prompt + output,
            "prompt_tokens_details": {"cached_tokens": cached},
        }

    async def _list_models(self, request: web.Request) -> web.Response:
        if bearer_or_api_key(request) != self.api_key:
            return _error(401, "Incorrect API key provided")
        data = [
            {"id": model, "object": "model", "created": 1767225600, "owned_by": "fake"}
            for model in self.models
        ]
        return web.json_response({"object": "list", "data": data})


def _error(status: int, message: str, **headers: str) -> web.Response:
    kind, code = ERROR_CODES.get(status, ("server_error", None))
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": code}},
        status=status,
        headers={"x-request-id": "req_fake_error", **headers},
    )


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return ""


def _protocol_problem(body: Mapping[str, Any]) -> str | None:
    """The checks the real API makes that our client could get wrong."""
    if not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    pending: set[str] = set()
    for message in messages:
        role = message.get("role")
        if role == "tool":
            pending.discard(message.get("tool_call_id"))
            continue
        if pending:
            return "an assistant message with tool_calls must be followed by tool messages"
        if role == "assistant":
            pending = {call["id"] for call in message.get("tool_calls") or ()}
    if pending:
        return "an assistant message with tool_calls must be followed by tool messages"
    return None


def _model_call(request: web.Request, body: Mapping[str, Any]) -> ModelCall:
    messages: list[Mapping[str, Any]] = body["messages"]
    names = {
        call["id"]: call["function"]["name"]
        for message in messages
        for call in message.get("tool_calls") or ()
    }
    asked_at = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0)
    trailing: list[Mapping[str, Any]] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        trailing.insert(0, message)
    choice = body.get("tool_choice", "auto")
    return ModelCall(
        headers=dict(request.headers),
        body=body,
        api_key=bearer_or_api_key(request),
        model=body["model"],
        system="\n".join(
            _text_of(m.get("content")) for m in messages if m.get("role") in ("system", "developer")
        ),
        question=_text_of(messages[asked_at].get("content")),
        round=sum(1 for m in messages[asked_at + 1 :] if m.get("role") == "assistant"),
        tool_results=tuple(
            ToolResult(names.get(m.get("tool_call_id", ""), ""), _text_of(m.get("content")))
            for m in trailing
        ),
        history=_history(messages[:asked_at]),
        tools=tuple(tool["function"]["name"] for tool in body.get("tools", [])),
        tool_choice=choice if isinstance(choice, str) else "function",
        max_tokens=body.get("max_completion_tokens", body.get("max_tokens")),
    )


def _history(messages: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    turns = (
        (m.get("role", ""), _text_of(m.get("content")))
        for m in messages
        if m.get("role") in ("user", "assistant")
    )
    return tuple((role, text) for role, text in turns if text)
