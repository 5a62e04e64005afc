"""A fake Telegram Bot API on 127.0.0.1 that speaks the real wire protocol.

`POST /bot<token>/<method>` with form-encoded (or multipart, or JSON) parameters, answered
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...,
"parameters": {"retry_after": N}}`. It records every call, keeps forum topics, and checks
every send against Telegram's limits (per chat, per group, per bot) so tests and the
benchmark can prove none was exceeded.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "123456789:TEST-fake-token-abcdefghijklmnopqrstu"
BOT_ID = 123456789
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendVideoNote",
        "sendAnimation",
        "sendSticker",
        "sendLocation",
        "sendContact",
    }
)
_TAG = re.compile(r"</?(?:b|i|u|s|code|pre|a)(?:\s[^>]*)?>")
TOLERANCE = 0.05
"""Seconds of slack when checking limits: two clocks, one loopback."""


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    uploads: dict[str, tuple[str | None, bytes]] = field(default_factory=dict)
    """Files sent in the request (multipart parts), by part name: file name and bytes."""

    def upload(self, param: str) -> tuple[str | None, bytes]:
        """The file a parameter names as `attach://<part>`."""
        return self.uploads[str(self.params[param]).removeprefix("attach://")]

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def thread_id(self) -> int | None:
        value = self.params.get("message_thread_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        """What the person sees: HTML markup rendered away, as Telegram does."""
        raw = str(self.params.get("text") or self.params.get("caption") or "")
        if self.params.get("parse_mode") == "HTML":
            return html.unescape(_TAG.sub("", raw))
        return raw

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]


@dataclass
class Failure:
    method: str
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None
    times: int = 1
    text_contains: str | None = None
    """Fail only calls whose text or caption holds this marker (one part of a long reply)."""


@dataclass
class Limits:
    chat_per_second: int = 1
    group_per_minute: int = 20
    bot_per_second: int = 30


@dataclass
class FakeTelegram:
    limits: Limits = field(default_factory=Limits)
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    topics: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Forum topics by thread id: their name and whether they are closed."""
    updates: list[dict[str, Any]] = field(default_factory=list)
    enforce_limits: bool = False
    """Answer 429 when a limit is exceeded, as Telegram does (otherwise only record it)."""
    delay: float = 0.0
    on_call: Any = None
    """Called with each `Call` as it arrives (the benchmark's stopwatch)."""
    keep_calls: bool = True
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """Files `getFile` knows, by file_id: their path on the server and their bytes."""
    forum: bool = True
    """Topics are on in every group (`getChat` answers `is_forum`)."""
    bot_manages_topics: bool = True
    """The bot is an administrator with the right to manage topics in every group."""
    unknown_chats: set[int] = field(default_factory=set)
    """Chats the bot is not in: `getChat` answers "chat not found"."""
    _ids: Any = field(default_factory=lambda: itertools.count(1000))
    _recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _changed: asyncio.Condition | None = None

    # Scripting ---------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = 1,
        chat_id: int | None = None,
        times: int = 1,
        text_contains: str | None = None,
    ) -> None:
        self.failures.append(
            Failure(method, status, description, retry_after, chat_id, times, text_contains)
        )

    def delete_topic(self, thread_id: int) -> None:
        """Staff deleted the topic: everything sent to it is refused, as Telegram does."""
        self.topics[thread_id]["deleted"] = True

    def block(self, chat_id: int) -> None:
        """The customer blocked the bot: every send to them is refused for good."""
        self.fail(
            "*",
            status=403,
            description="Forbidden: bot was blocked by the user",
            retry_after=None,
            chat_id=chat_id,
            times=10**9,
        )

    # Reading -----------------------------------------------------------------------------

    def sent(
        self, chat_id: int | None = None, *, thread_id: int | None = None, ok_only: bool = False
    ) -> list[Call]:
        return [
            call
            for call in self.calls
            if call.method in SEND_METHODS
            and (not ok_only or call.status == 200)
            and (chat_id is None or call.chat_id == chat_id)
            and (thread_id is None or call.thread_id == thread_id)
        ]

    def texts(self, chat_id: int, *, thread_id: int | None = None) -> list[str]:
        """What the chat received: successful sends only."""
        return [call.text for call in self.sent(chat_id, thread_id=thread_id, ok_only=True)]

    def methods(self, name: str) -> list[Call]:
        return [call for call in self.calls if call.method == name]

    async def wait_for(self, predicate: Any, *, within: float = 10.0) -> None:
        """Wait until `predicate(self)` holds; fail the test after `within` seconds."""
        changed = self._condition()
        async with changed:
            try:
                await asyncio.wait_for(changed.wait_for(lambda: bool(predicate(self))), within)
            except TimeoutError:
                raise AssertionError(f"the fake Bot API never saw that ({within}s)") from None

    # Serving -----------------------------------------------------------------------------

    def add_file(self, file_id: str, path: str, data: bytes) -> None:
        """A file a user sent: `getFile` names its path, `/file/bot<token>/<path>` serves it."""
        self.files[file_id] = (path, data)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        return app

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        for stored_path, data in self.files.values():
            if stored_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return _error(404, "Not Found")

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _handle(self, request: web.Request) -> web.Response:
        changed = self._condition()
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, uploads = await _params(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        now = time.monotonic()
        failure = self._failure_for(method, params)
        if failure is None and method in SEND_METHODS:
            exceeded = self._check_limits(params, now)
            if exceeded and self.enforce_limits:
                failure = Failure(method, 429, f"Too Many Requests: {exceeded}", 1)
            elif exceeded:
                self.violations.append(exceeded)
        call = Call(method, params, now, failure.status if failure else 200, uploads)
        if self.keep_calls:
            self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        async with changed:
            changed.notify_all()
        if failure is not None:
            return _error(failure.status, failure.description, failure.retry_after)
        if method in SEND_METHODS:
            self._count(params, now)
        return web.json_response({"ok": True, "result": self._result(method, params)})

    def _failure_for(self, method: str, params: dict[str, Any]) -> Failure | None:
        if method == "getFile" and params.get("file_id") not in self.files:
            return Failure(method, 400, "Bad Request: invalid file_id")
        if method in ("getChat", "getChatMember") and int(params["chat_id"]) in self.unknown_chats:
            return Failure(method, 400, "Bad Request: chat not found")
        thread = params.get("message_thread_id")
        if thread is not None and self.topics.get(int(thread), {}).get("deleted"):
            return Failure(method, 400, "Bad Request: message thread not found")
        for failure in self.failures:
            if failure.method not in (method, "*"):
                continue
            if failure.method == "*" and method not in SEND_METHODS:
                continue
            if failure.chat_id is not None and str(failure.chat_id) != str(params.get("chat_id")):
                continue
            if failure.text_contains is not None and failure.text_contains not in str(
                params.get("text") or params.get("caption") or ""
            ):
                continue
            failure.times -= 1
            if failure.times <= 0:
                self.failures.remove(failure)
            return failure
        return None

    def _windows(self, params: dict[str, Any]) -> list[tuple[str, int, float]]:
        chat = int(params["chat_id"])
        windows = [("bot", self.limits.bot_per_second, 1.0)]
        if chat < 0:
            windows.append((f"group:{chat}", self.limits.group_per_minute, 60.0))
        else:
            windows.append((f"chat:{chat}", self.limits.chat_per_second, 1.0))
        return windows

    def _check_limits(self, params: dict[str, Any], now: float) -> str | None:
        for key, limit, span in self._windows(params):
            recent = self._recent[key]
            while recent and recent[0] <= now - span + TOLERANCE:
                recent.popleft()
            if len(recent) >= limit:
                return f"{key}: more than {limit} in {span:.0f}s"
        return None

    def _count(self, params: dict[str, Any], now: float) -> None:
        for key, _, _ in self._windows(params):
            self._recent[key].append(now)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Helpline", "username": "hl_bot"}
        if method == "getChat":
            chat = int(params["chat_id"])
            return {
                "id": chat,
                "type": "supergroup" if chat < 0 else "private",
                "title": "Support team",
                "is_forum": self.forum,
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        if method == "getChatMember":
            return _member(int(params["user_id"]), admin=self.bot_manages_topics)
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            return [u for u in self.updates if u["update_id"] >= offset]
        if method == "getFile":
            path, data = self.files[params["file_id"]]
            file_id = params["file_id"]
            return {
                "file_id": file_id,
                "file_unique_id": file_id[:8],
                "file_size": len(data),
                "file_path": path,
            }
        if method == "createForumTopic":
            thread_id = next(self._ids)
            self.topics[thread_id] = {"name": params["name"], "closed": False}
            return {"message_thread_id": thread_id, "name": params["name"], "icon_color": 7322096}
        if method in ("closeForumTopic", "reopenForumTopic", "editForumTopic"):
            topic = self.topics.get(int(params["message_thread_id"]))
            if topic is not None:
                if method == "editForumTopic" and "name" in params:
                    topic["name"] = params["name"]
                elif method != "editForumTopic":
                    topic["closed"] = method == "closeForumTopic"
            return True
        if method in SEND_METHODS:
            chat = int(params["chat_id"])
            message: dict[str, Any] = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat, "type": "supergroup" if chat < 0 else "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Helpline"},
            }
            if "text" in params:
                message["text"] = params["text"]
            if "message_thread_id" in params:
                message["message_thread_id"] = int(params["message_thread_id"])
                message["is_topic_message"] = True
            return message
        return True


def _member(user_id: int, *, admin: bool) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": user_id == BOT_ID, "first_name": "Helpline"}
    if not admin:
        return {"status": "member", "user": user}
    rights = [
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
        "can_send_welcome_messages",
        "can_manage_topics",
    ]
    return {
        "status": "administrator",
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        **dict.fromkeys(rights, True),
    }


async def _params(
    request: web.Request,
) -> tuple[dict[str, Any], dict[str, tuple[str | None, bytes]]]:
    """The method's parameters, and the files among them."""
    uploads: dict[str, tuple[str | None, bytes]] = {}
    if request.content_type == "application/json":
        data = await request.json()
        return (dict(data) if isinstance(data, dict) else {}), uploads
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):
            uploads[key] = (value.filename, value.file.read())
            params[key] = "<file>"
            continue
        if not isinstance(value, str):
            params[key] = "<file>"
            continue
        if value[:1] in "{[":
            try:
                params[key] = json.loads(value)
                continue
            except ValueError:
                pass
        params[key] = value
    return params, uploads


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


@asynccontextmanager
async def running(fake: FakeTelegram | None = None) -> AsyncIterator[tuple[FakeTelegram, str]]:
    """Serve a fake Bot API on a free port; yields it and its base URL."""
    fake = fake or FakeTelegram()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
