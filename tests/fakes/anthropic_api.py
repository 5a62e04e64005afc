"""A local imitation of Anthropic's Messages API, and the answer script both LLM fakes share.

The server speaks the real wire format (`POST /v1/messages` with `tool_use` / `tool_result`
blocks, usage with cache fields, error bodies and `retry-after`), so the real `anthropic`
client runs against it. What it answers comes from a `Script`:

    script = Script().on(
        mentions("password"),
        Answer(tool_calls=(ToolUse("mark_answer_as_safe"),)),  # first response
        Answer("Use 'Forgot password' on the login page."),     # after the tool result
    )
    async with FakeAnthropicAPI.running(script=script) as fake:
        ...  # point ANTHROPIC_BASE_URL at fake.base_url, then assert on fake.calls

Rules see a provider-neutral `ModelCall` (the question, the tool round, tool results, the
system text), so one script reads the same against the OpenAI fake.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

API_KEY = "sk-ant-test"
MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5")


@dataclass(frozen=True)
class ToolUse:
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenUsage:
    """Usage to report instead of the estimate; `input` excludes cache reads and writes."""

    input: int
    output: int
    cache_read: int = 0
    cache_write: int = 0


@dataclass(frozen=True)
class Answer:
    text: str = ""
    tool_calls: tuple[ToolUse, ...] = ()
    usage: TokenUsage | None = None
    delay: float = 0.0
    truncated: bool = False
    """Report that the output token limit cut the text."""


@dataclass(frozen=True)
class Failure:
    status: int
    retry_after: float | None = None
    delay: float = 0.0
    message: str = "scripted failure"


Step = Answer | Failure


@dataclass(frozen=True)
class ToolResult:
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ModelCall:
    """One request as a rule sees it, the same for both APIs."""

    headers: Mapping[str, str]
    body: Mapping[str, Any]
    api_key: str
    model: str
    system: str
    question: str
    """The customer's latest text (tool results are not questions)."""
    round: int
    """How many tool rounds have passed since the question: 0 for its first request."""
    tool_results: tuple[ToolResult, ...]
    """The results sent with this request, answering the previous round's calls."""
    history: tuple[tuple[str, str], ...]
    """(role, text) of the turns before the question; roles are `user` and `assistant`."""
    tools: tuple[str, ...]
    tool_choice: str
    max_tokens: int | None


Rule = Callable[[ModelCall], Step | None]


def mentions(*words: str) -> Callable[[ModelCall], bool]:
    """True when the question contains any of the words (case-insensitive)."""
    lowered = [word.lower() for word in words]
    return lambda call: any(word in call.question.lower() for word in lowered)


class Script:
    """What the fake answers: queued steps first, then the first matching rule, else echo."""

    def __init__(self, default: Callable[[ModelCall], Step] | None = None) -> None:
        self._queue: deque[Step] = deque()
        self._rules: list[Rule] = []
        self._default = default or (lambda call: Answer(f"You asked: {call.question}"))

    def then(self, *steps: Step) -> Script:
        """Answer the next requests with these steps, one each, before any rule."""
        self._queue.extend(steps)
        return self

    def on(self, when: Callable[[ModelCall], bool], *steps: Step) -> Script:
        """When `when` holds, answer round N with `steps[N]` (the last one repeats)."""
        if not steps:
            raise ValueError("on() needs at least one step")
        self._rules.append(
            lambda call: steps[min(call.round, len(steps) - 1)] if when(call) else None
        )
        return self

    def rule(self, rule: Rule) -> Script:
        """A free-form rule: return a step, or None to let the next rule decide."""
        self._rules.append(rule)
        return self

    def step_for(self, call: ModelCall) -> Step:
        if self._queue:
            return self._queue.popleft()
        for rule in self._rules:
            step = rule(call)
            if step is not None:
                return step
        return self._default(call)


@dataclass
class Recorded:
    call: ModelCall
    status: int = 200


def estimate_tokens(value: object) -> int:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return len(text) // 4 + 1


def bearer_or_api_key(request: web.Request) -> str:
    """SDK 2.x sends `Authorization: Bearer KEY`; older clients and proxies `x-api-key`."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


class FakeLLMServer:
    """What both fakes share: the script, the record of calls, serving on 127.0.0.1."""

    base_path = ""

    def __init__(
        self, *, script: Script | None = None, api_key: str, models: Sequence[str]
    ) -> None:
        self.script = script or Script()
        self.api_key = api_key
        self.models = tuple(models)
        self.recorded: list[Recorded] = []
        self.base_url = ""
        self._ids = itertools.count(1)

    @property
    def calls(self) -> list[ModelCall]:
        """Every model request received, rejected ones included, oldest first."""
        return [entry.call for entry in self.recorded]

    @property
    def statuses(self) -> list[int]:
        return [entry.status for entry in self.recorded]

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"

    def app(self) -> web.Application:
        raise NotImplementedError

    @classmethod
    @asynccontextmanager
    async def running(cls, **options: Any) -> AsyncIterator[Any]:
        fake = cls(**options)
        server = TestServer(fake.app(), host="127.0.0.1", port=0)
        await server.start_server()
        fake.base_url = str(server.make_url(cls.base_path)).rstrip("/")
        try:
            yield fake
        finally:
            await server.close()

    async def answer(self, call: ModelCall, request_key: str) -> Step | None:
        """Record the call; an unknown key is refused before the script is asked."""
        entry = Recorded(call)
        self.recorded.append(entry)
        if request_key != self.api_key:
            entry.status = 401
            return None
        step = self.script.step_for(call)
        if step.delay:
            await asyncio.sleep(step.delay)
        if isinstance(step, Failure):
            entry.status = step.status
        return step


class FakeAnthropicAPI(FakeLLMServer):
    def __init__(
        self,
        *,
        script: Script | None = None,
        api_key: str = API_KEY,
        models: Sequence[str] = MODELS,
    ) -> None:
        super().__init__(script=script, api_key=api_key, models=models)
        self._cached_prefixes: set[str] = set()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model_id}", self._get_model)
        return app

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "invalid_request_error", "body is not JSON")
        problem = _protocol_problem(body)
        if problem is not None:
            return _error(400, "invalid_request_error", problem)
        step = await self.answer(_model_call(request, body), bearer_or_api_key(request))
        if step is None:
            return _error(401, "authentication_error", "invalid x-api-key")
        if isinstance(step, Failure):
            return _failure(step)
        return web.json_response(self._message(body, step), headers={"request-id": "req_ok"})

    def _message(self, body: Mapping[str, Any], answer: Answer) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if answer.text:
            content.append({"type": "text", "text": answer.text})
        for use in answer.tool_calls:
            content.append(
                {
                    "type": "tool_use",
                    "id": self.next_id("toolu_"),
                    "name": use.name,
                    "input": dict(use.arguments),
                }
            )
        stop = "tool_use" if answer.tool_calls else "end_turn"
        if answer.truncated:
            stop = "max_tokens"
        return {
            "id": self.next_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": self._usage(body, answer),
        }

    def _usage(self, body: Mapping[str, Any], answer: Answer) -> dict[str, int]:
        if answer.usage is not None:
            scripted = answer.usage
            return {
                "input_tokens": scripted.input,
                "output_tokens": scripted.output,
                "cache_read_input_tokens": scripted.cache_read,
                "cache_creation_input_tokens": scripted.cache_write,
            }
        prefix = _cached_prefix(body)
        prefix_tokens = estimate_tokens(prefix) if prefix else 0
        total = estimate_tokens({k: body.get(k) for k in ("tools", "system", "messages")})
        read = write = 0
        if prefix:
            if prefix in self._cached_prefixes:
                read = prefix_tokens
            else:
                write = prefix_tokens
                self._cached_prefixes.add(prefix)
        output = estimate_tokens(answer.text) + 20 * len(answer.tool_calls)
        return {
            "input_tokens": max(total - prefix_tokens, 1),
            "output_tokens": output,
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": write,
        }

    async def _list_models(self, request: web.Request) -> web.Response:
        if bearer_or_api_key(request) != self.api_key:
            return _error(401, "authentication_error", "invalid x-api-key")
        data = [_model_info(model) for model in self.models]
        return web.json_response(
            {
                "data": data,
                "has_more": False,
                "first_id": self.models[0],
                "last_id": self.models[-1],
            }
        )

    async def _get_model(self, request: web.Request) -> web.Response:
        if bearer_or_api_key(request) != self.api_key:
            return _error(401, "authentication_error", "invalid x-api-key")
        model_id = request.match_info["model_id"]
        if model_id not in self.models:
            return _error(404, "not_found_error", f"model: {model_id}")
        return web.json_response(_model_info(model_id))


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def _error(status: int, kind: str, message: str, **headers: str) -> web.Response:
    return web.json_response(
        {"type": "error", "error": {"type": kind, "message": message}},
        status=status,
        headers={"request-id": "req_fake_error", **headers},
    )


def _failure(step: Failure) -> web.Response:
    headers = {} if step.retry_after is None else {"retry-after": f"{step.retry_after:g}"}
    return _error(step.status, ERROR_TYPES.get(step.status, "api_error"), step.message, **headers)


def _model_info(model: str) -> dict[str, str]:
    return {
        "type": "model",
        "id": model,
        "display_name": model,
        "created_at": "2026-01-01T00:00:00Z",
    }


def _blocks(content: object) -> list[Mapping[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return (
        [block for block in content if isinstance(block, Mapping)]
        if isinstance(content, list)
        else []
    )


def _text_of(content: object) -> str:
    return "\n".join(block["text"] for block in _blocks(content) if block.get("type") == "text")


def _cached_prefix(body: Mapping[str, Any]) -> str:
    """Tools and system blocks up to the last `cache_control` breakpoint, as a cache key."""
    parts: list[object] = [*body.get("tools", [])]
    system = body.get("system")
    parts.extend(system if isinstance(system, list) else [system] if system else [])
    marked = [
        i for i, part in enumerate(parts) if isinstance(part, Mapping) and "cache_control" in part
    ]
    if not marked:
        return ""
    return json.dumps(parts[: marked[-1] + 1], sort_keys=True, ensure_ascii=False)


def _protocol_problem(body: Mapping[str, Any]) -> str | None:
    """The checks the real API makes that our client could get wrong."""
    if not isinstance(body.get("model"), str) or not isinstance(body.get("max_tokens"), int):
        return "model and max_tokens are required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if messages[0].get("role") != "user":
        return "messages: the first message must use the user role"
    for earlier, later in itertools.pairwise(messages):
        uses = {b["id"] for b in _blocks(earlier.get("content")) if b.get("type") == "tool_use"}
        answered = {
            b.get("tool_use_id")
            for b in _blocks(later.get("content"))
            if b.get("type") == "tool_result"
        }
        if uses and uses != answered:
            return "messages: every tool_use block needs a tool_result right after it"
    return None


def _model_call(request: web.Request, body: Mapping[str, Any]) -> ModelCall:
    messages: list[Mapping[str, Any]] = body["messages"]
    names = {
        block["id"]: block.get("name", "")
        for message in messages
        for block in _blocks(message.get("content"))
        if block.get("type") == "tool_use"
    }
    asked_at = max(
        (
            i
            for i, m in enumerate(messages)
            if m.get("role") == "user" and _text_of(m.get("content"))
        ),
        default=0,
    )
    last = messages[-1]
    results = tuple(
        ToolResult(
            names.get(block.get("tool_use_id", ""), ""),
            _result_text(block),
            bool(block.get("is_error")),
        )
        for block in _blocks(last.get("content"))
        if block.get("type") == "tool_result"
    )
    system = body.get("system")
    choice = body.get("tool_choice")
    return ModelCall(
        headers=dict(request.headers),
        body=body,
        api_key=bearer_or_api_key(request),
        model=body["model"],
        system=_text_of(system) if system else "",
        question=_text_of(messages[asked_at].get("content")),
        round=sum(1 for m in messages[asked_at + 1 :] if m.get("role") == "assistant"),
        tool_results=results,
        history=_history(messages[:asked_at]),
        tools=tuple(tool.get("name", "") for tool in body.get("tools", [])),
        tool_choice=choice.get("type", "auto") if isinstance(choice, Mapping) else "auto",
        max_tokens=body.get("max_tokens"),
    )


def _result_text(block: Mapping[str, Any]) -> str:
    content = block.get("content", "")
    return content if isinstance(content, str) else _text_of(content)


def _history(messages: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    turns = ((m.get("role", ""), _text_of(m.get("content"))) for m in messages)
    return tuple((role, text) for role, text in turns if text)
