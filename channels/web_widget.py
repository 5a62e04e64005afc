"""The embeddable web chat widget: a demo page, `widget.js` and a WebSocket per browser tab.

Protocol (JSON text frames; see README "Web widget protocol"):
  client -> {"type": "hello", "token": <token or null>, "language": "de-DE"}
  server -> {"type": "ready", "token": ..., "history": [message, ...], "max_file_bytes": N}
  client -> {"type": "message", "id": "<client id>", "text": "..."}
  client -> {"type": "message", "id": ..., "text": "", "file": {"name", "type", "size"}}
            followed by one binary frame holding the file's bytes
  server -> {"type": "ack", "id": ..., "message_id": 17, "duplicate": false,
             "attachments": [...]}
  server -> {"type": "message", "message": {...}}       (a reply, an agent, another tab)
  client -> {"type": "ping"}   server -> {"type": "pong"}
  server -> {"type": "error", "code": "...", "message": "...", "id": <client id or null>}
"""

from __future__ import annotations

import json
import logging
import re
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiolimiter import AsyncLimiter

from bot.errors import MessageRejected
from bot.types import (
    AcceptInbound,
    Attachment,
    ChannelAddress,
    ChannelKind,
    Direction,
    FileContent,
    InboundMessage,
    MessageView,
    OutboundReply,
    SendProgress,
)
from channels.files import FileLinks
from channels.web_uploads import BadFile, DeclaredFile, declared_file
from channels.web_visitors import VisitorTokens

log = logging.getLogger(__name__)

LoadHistory = Callable[[ChannelAddress], Awaitable[list[MessageView]]]
StoreFile = Callable[[str, FileContent], Awaitable[str]]
"""Stores a message's file once per message source id; returns the attachment reference."""

MAX_FRAME_BYTES = 256 * 1024
"""Largest JSON frame; a file's binary frame may be as large as the file limit."""
FILE_FRAME_SECONDS = 120.0
"""How long the bytes of a declared file may take to follow (a slow upload link)."""
HEARTBEAT_SECONDS = 25.0
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def _static(name: str) -> bytes:
    return resources.files("channels").joinpath("static", name).read_bytes()


def message_frame(view: MessageView, links: FileLinks) -> dict[str, Any]:
    return {
        "id": view.id,
        "direction": view.direction.value,
        "sender": view.sender_kind.value,
        "author": view.author_name if view.direction is not Direction.INCOMING else None,
        "text": view.text,
        "at": view.created_at.isoformat(),
        "attachments": attachment_frames(view.id, view.attachments, links),
    }


def attachment_frames(
    message_id: int, attachments: Sequence[Attachment], links: FileLinks
) -> list[dict[str, Any]]:
    """Each file with a link to open it where a channel still holds it (else just named)."""
    return [
        {"kind": a.kind.value, "name": a.name, "url": links.path(message_id, index, a)}
        for index, a in enumerate(attachments)
    ]


class _Answered(Exception):
    """The frame was refused and the visitor already told why."""


class _FrameError(Exception):
    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.client_id = client_id


class WebWidgetAdapter:
    kind = ChannelKind.WEB

    def __init__(
        self,
        *,
        accept: AcceptInbound,
        load_history: LoadHistory,
        tokens: VisitorTokens,
        links: FileLinks,
        allowed_origins: frozenset[str],
        messages_per_minute: int,
        store_file: StoreFile,
        max_file_bytes: int,
    ) -> None:
        self._accept = accept
        self._store_file = store_file
        self._max_file_bytes = max_file_bytes
        self._links = links
        self._load_history = load_history
        self._tokens = tokens
        self._allowed_origins = allowed_origins
        self._messages_per_minute = messages_per_minute
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._by_visitor: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._before_ready: dict[web.WebSocketResponse, list[dict[str, Any]]] = {}
        """Frames for a tab whose history is still being loaded: sent after "ready"."""
        self._demo_page = _static("demo.html")
        self._script = _static("widget.js")

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/", self._demo)
        app.router.add_get("/widget.js", self._widget_js)
        app.router.add_get("/widget/ws", self._socket)
        app.on_shutdown.append(self._close_all)

    async def _demo(self, request: web.Request) -> web.Response:
        return web.Response(body=self._demo_page, content_type="text/html", charset="utf-8")

    async def _widget_js(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._script,
            content_type="application/javascript",
            charset="utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None or "*" in self._allowed_origins:
            return True  # not a browser page: the origin rule protects browsers only
        own = f"{request.scheme}://{request.host}"
        return origin.rstrip("/") in self._allowed_origins or origin == own

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            raise web.HTTPForbidden(text="this site may not embed the chat widget")
        largest = max(MAX_FRAME_BYTES, self._max_file_bytes + 1024)
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=largest)
        await ws.prepare(request)
        self._sockets.add(ws)
        limiter = AsyncLimiter(self._messages_per_minute, 60) if self._messages_per_minute else None
        session = _Session(ws, limiter)
        try:
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    await self._handle_text(session, frame.data)
                elif frame.type is WSMsgType.BINARY:
                    await _send_error(ws, _FrameError("bad_frame", "send JSON text frames"))
        finally:
            if session.visitor_id is not None:
                self._by_visitor[session.visitor_id].discard(ws)
                if not self._by_visitor[session.visitor_id]:
                    del self._by_visitor[session.visitor_id]
        return ws

    async def _handle_text(self, session: _Session, raw: str) -> None:
        try:
            if len(raw) > MAX_FRAME_BYTES:
                raise _FrameError(
                    "too_large", f"a JSON frame may have at most {MAX_FRAME_BYTES} characters"
                )
            data = _parse(raw)
            kind = data.get("type")
            if kind == "hello":
                await self._hello(session, data)
            elif kind == "message":
                await self._message(session, data)
            elif kind == "ping":
                await session.ws.send_json({"type": "pong"})
            else:
                raise _FrameError("unknown_type", f"unknown message type {str(kind)[:32]!r}")
        except _FrameError as exc:
            await _send_error(session.ws, exc)
        except _Answered:
            pass

    async def _hello(self, session: _Session, data: dict[str, Any]) -> None:
        visitor_id = self._tokens.verify(data.get("token"))
        token = data.get("token")
        returning = visitor_id is not None
        if visitor_id is None:
            visitor_id, token = self._tokens.issue()
        if session.visitor_id is not None and session.visitor_id != visitor_id:
            self._by_visitor[session.visitor_id].discard(session.ws)
        language = data.get("language")
        session.visitor_id = visitor_id
        session.language = (
            language if isinstance(language, str) and _LANGUAGE.fullmatch(language) else None
        )
        # Registered before the history is read, so that nothing sent meanwhile is missed.
        held = self._before_ready[session.ws] = []
        self._by_visitor[visitor_id].add(session.ws)
        try:
            # A visitor we just named has no history yet: no need to ask the database.
            history = await self._load_history(_address(visitor_id)) if returning else []
            await session.ws.send_json(
                {
                    "type": "ready",
                    "token": token,
                    "history": [message_frame(m, self._links) for m in history],
                    "max_file_bytes": self._max_file_bytes,
                }
            )
            while held:
                await session.ws.send_json(held.pop(0))
        finally:
            del self._before_ready[session.ws]

    async def _message(self, session: _Session, data: dict[str, Any]) -> None:
        client_id = data.get("id")
        if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
            raise _FrameError("bad_frame", "a message needs an id of letters, digits, - or _")
        text = data.get("text")
        if not isinstance(text, str):
            raise _FrameError("bad_frame", "a message needs a text", client_id)
        # The file's bytes come next whatever is wrong with the message: read them first.
        upload = (
            await self._receive_file(session, client_id, data["file"]) if "file" in data else None
        )
        if session.visitor_id is None:
            raise _FrameError("hello_first", "send hello before messages", client_id)
        if session.limiter is not None:
            if not session.limiter.has_capacity():
                raise _FrameError("rate_limited", "too many messages; wait a moment", client_id)
            await session.limiter.acquire()
        source_id = f"{session.visitor_id}:{client_id}"
        attachments: tuple[Attachment, ...] = ()
        if upload is not None:
            declared, content = upload
            attachments = (declared.attachment(await self._store_file(source_id, content)),)
        inbound = InboundMessage(
            channel=ChannelKind.WEB,
            external_user_id=session.visitor_id,
            chat_id=session.visitor_id,
            text=text.strip(),
            source_message_id=source_id,
            language_hint=session.language,
            attachments=attachments,
        )
        try:
            recorded = await self._accept(inbound)
        except MessageRejected as exc:
            raise _FrameError(exc.code, exc.detail, client_id) from None
        files = attachment_frames(recorded.message_id, attachments, self._links)
        await session.ws.send_json(
            {
                "type": "ack",
                "id": client_id,
                "message_id": recorded.message_id,
                "duplicate": recorded.duplicate,
                "attachments": files,
            }
        )
        if not recorded.duplicate:
            echo = {
                "type": "message",
                "client_id": client_id,
                "message": {
                    "id": recorded.message_id,
                    "direction": "incoming",
                    "sender": "customer",
                    "author": None,
                    "text": inbound.text,
                    "at": None,
                    "attachments": files,
                },
            }
            await self._push(session.visitor_id, echo, skip=session.ws)

    async def _receive_file(
        self, session: _Session, client_id: str, declaration: object
    ) -> tuple[DeclaredFile, FileContent]:
        """The declared file's bytes, from the frame that must follow the message."""
        try:
            frame = await session.ws.receive(timeout=FILE_FRAME_SECONDS)
        except TimeoutError:
            raise _FrameError("bad_file", "the file's bytes did not arrive", client_id) from None
        if frame.type is not WSMsgType.BINARY:
            missing = _FrameError("bad_file", "the file's bytes must follow the message", client_id)
            await _send_error(session.ws, missing)
            if frame.type is WSMsgType.TEXT:
                await self._handle_text(session, frame.data)  # the next message, not a file
            raise _Answered
        try:
            declared = declared_file(declaration, self._max_file_bytes)
            return declared, declared.content(frame.data)
        except BadFile as exc:
            raise _FrameError(exc.code, str(exc), client_id) from None

    async def send(
        self, to: ChannelAddress, reply: OutboundReply, *, message_id: int, progress: SendProgress
    ) -> str | None:
        """Push to every open tab of the visitor; a closed tab sees it in the history later.

        One frame carries the whole reply, so there are no parts to keep count of.
        """
        frame = {
            "type": "message",
            "message": {
                "id": message_id,
                "direction": "outgoing",
                "sender": reply.sender_kind.value,
                "author": reply.author_name,
                "text": reply.text,
                "at": _now(),
                "attachments": attachment_frames(message_id, reply.attachments, self._links),
            },
        }
        await self._push(to.external_user_id, frame)
        return None

    async def _push(
        self, visitor_id: str, frame: dict[str, Any], *, skip: web.WebSocketResponse | None = None
    ) -> None:
        for ws in list(self._by_visitor.get(visitor_id, ())):
            if ws is skip or ws.closed:
                continue
            held = self._before_ready.get(ws)
            if held is not None:
                held.append(frame)
                continue
            try:
                await ws.send_json(frame)
            except ConnectionError:
                log.debug("widget socket closed while sending")

    async def _close_all(self, app: web.Application) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


class _Session:
    __slots__ = ("language", "limiter", "visitor_id", "ws")

    def __init__(self, ws: web.WebSocketResponse, limiter: AsyncLimiter | None) -> None:
        self.ws = ws
        self.limiter = limiter
        self.visitor_id: str | None = None
        self.language: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _address(visitor_id: str) -> ChannelAddress:
    return ChannelAddress(ChannelKind.WEB, visitor_id, visitor_id)


def _parse(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise _FrameError("bad_json", "the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise _FrameError("bad_frame", "a frame must be a JSON object")
    return data


async def _send_error(ws: web.WebSocketResponse, error: _FrameError) -> None:
    await ws.send_json(
        {"type": "error", "code": error.code, "message": str(error), "id": error.client_id}
    )
