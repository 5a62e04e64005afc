"""Links to the files agents send, for channels that cannot carry the file itself.

An agent's photo or document arrives through Telegram and stays there: the web widget
and WeChat get a link to `/files/<message>/<n>` on this server instead: signed, so it
cannot be guessed or altered to name another file, and valid for `LINK_SECONDS`. Whoever
holds the link may open it, as with any shared link. Opening it fetches the file from the
channel that holds it, so nothing is copied or kept here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from bot.errors import ChannelError
from bot.types import Attachment, FileSource

log = logging.getLogger(__name__)

LoadAttachment = Callable[[int, int], Awaitable[Attachment | None]]

LINK_SECONDS = 7 * 24 * 3600
"""A customer may open a file days after it was sent; history shows fresh links."""
INLINE_TYPES = ("image/", "audio/", "video/", "application/pdf")
"""Shown in the browser; anything else is downloaded, never rendered on our origin."""


class FileLinks:
    """Signs and checks file links; knows which files some channel can hand back."""

    def __init__(self, secret: str | None = None) -> None:
        self._sources: list[FileSource] = []
        self._key = secret.encode() if secret else b""

    def use_secret(self, secret: str) -> None:
        """Set the signing key once it is known (it may come from the database at start)."""
        self._key = secret.encode()

    def add_source(self, source: FileSource) -> None:
        self._sources.append(source)

    def source_for(self, attachment: Attachment) -> FileSource | None:
        """The channel holding the file's bytes (places and contacts have none)."""
        return next((s for s in self._sources if s.can_fetch(attachment)), None)

    def path(self, message_id: int, index: int, attachment: Attachment) -> str | None:
        """The signed path of a message's `index`-th file; None when no channel has it."""
        if not self._key or self.source_for(attachment) is None:
            return None
        expires = int(time.time()) + LINK_SECONDS
        signature = self._sign(message_id, index, expires)
        return f"/files/{message_id}/{index}?expires={expires}&signature={signature}"

    def url(self, base: str, message_id: int, index: int, attachment: Attachment) -> str | None:
        """The same link, absolute, for channels that open it outside our pages."""
        path = self.path(message_id, index, attachment)
        return None if path is None else base.rstrip("/") + path

    def valid(self, message_id: int, index: int, expires: int, signature: str) -> bool:
        if not self._key or expires < time.time():
            return False
        return hmac.compare_digest(self._sign(message_id, index, expires), signature)

    def _sign(self, message_id: int, index: int, expires: int) -> str:
        payload = f"file:{message_id}:{index}:{expires}".encode()
        digest = hmac.new(self._key, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


class FileRoute:
    """`GET /files/{message}/{index}`: a signed link in, the file's bytes out."""

    def __init__(self, links: FileLinks, load_attachment: LoadAttachment) -> None:
        self._links = links
        self._load = load_attachment

    def mount(self, app: web.Application) -> None:
        app.router.add_get(r"/files/{message:\d{1,18}}/{index:\d{1,3}}", self._serve)

    async def _serve(self, request: web.Request) -> web.Response:
        message_id = int(request.match_info["message"])
        index = int(request.match_info["index"])
        try:
            expires = int(request.query.get("expires", ""))
        except ValueError:
            raise web.HTTPForbidden(text="this file link is incomplete") from None
        if not self._links.valid(message_id, index, expires, request.query.get("signature", "")):
            raise web.HTTPForbidden(text="this file link is not valid or has expired")
        attachment = await self._load(message_id, index)
        source = self._links.source_for(attachment) if attachment else None
        if attachment is None or source is None:
            raise web.HTTPNotFound(text="no such file")
        try:
            content = await source.fetch(attachment)
        except ChannelError as exc:
            log.warning("file %d/%d could not be fetched: %s", message_id, index, exc)
            raise web.HTTPBadGateway(text="the file cannot be fetched right now") from None
        inline = content.mime_type.startswith(INLINE_TYPES)
        name = (content.name or f"file-{message_id}-{index}").replace('"', "").replace("\\", "")
        disposition = "inline" if inline else "attachment"
        return web.Response(
            body=content.data,
            content_type=content.mime_type if inline else "application/octet-stream",
            headers={
                "Content-Disposition": _disposition(disposition, name),
                "Cache-Control": "private, max-age=3600",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox; default-src 'none'",
            },
        )


def _disposition(kind: str, name: str) -> str:
    """Both forms of the name (RFC 6266): plain ASCII for old browsers, UTF-8 for the rest."""
    plain = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
