"""A test client that speaks the widget's WebSocket protocol, as widget.js does."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

FRAME_TIMEOUT = 10.0


@dataclass
class WidgetClient:
    ws: aiohttp.ClientWebSocketResponse
    token: str
    history: list[dict[str, Any]]
    backlog: list[dict[str, Any]] = field(default_factory=list)
    ready_frame: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def connect(
        cls,
        session: aiohttp.ClientSession,
        ws_url: str,
        *,
        token: str | None = None,
        language: str = "en-US",
    ) -> WidgetClient:
        ws = await session.ws_connect(ws_url)
        await ws.send_json({"type": "hello", "token": token, "language": language})
        ready = await _receive(ws)
        assert ready["type"] == "ready", ready
        return cls(ws, ready["token"], ready["history"], ready_frame=ready)

    @property
    def visitor_id(self) -> str:
        return self.token.split(".")[0]

    async def say(self, text: str, *, client_id: str | None = None) -> dict[str, Any]:
        """Send a message and return its ack (or the error frame that refused it)."""
        client_id = client_id or uuid.uuid4().hex
        await self.ws.send_json({"type": "message", "id": client_id, "text": text})
        return await self.next_frame("ack", "error")

    async def send_file(
        self,
        data: bytes,
        *,
        name: str,
        mime_type: str,
        text: str = "",
        client_id: str | None = None,
        declared_size: int | None = None,
    ) -> dict[str, Any]:
        """Send a message with a file, as widget.js does, and return its ack (or error)."""
        client_id = client_id or uuid.uuid4().hex
        size = len(data) if declared_size is None else declared_size
        file = {"name": name, "type": mime_type, "size": size}
        await self.ws.send_json({"type": "message", "id": client_id, "text": text, "file": file})
        await self.ws.send_bytes(data)
        return await self.next_frame("ack", "error")

    async def next_frame(self, *types: str) -> dict[str, Any]:
        for index, frame in enumerate(self.backlog):
            if frame["type"] in types:
                return self.backlog.pop(index)
        while True:
            frame = await _receive(self.ws)
            if frame["type"] in types:
                return frame
            self.backlog.append(frame)

    async def next_reply(self) -> dict[str, Any]:
        """The next message we (the bot or an agent) sent to this visitor."""
        while True:
            frame = await self.next_frame("message")
            if frame["message"]["direction"] == "outgoing":
                return dict(frame["message"])

    async def close(self) -> None:
        await self.ws.close()


async def _receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), FRAME_TIMEOUT)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    data = message.json()
    assert isinstance(data, dict)
    return data
