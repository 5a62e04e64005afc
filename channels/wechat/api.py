"""The WeChat API calls Helpline makes: access token, customer-service text, user language
and customers' media.

A small aiohttp client instead of wechatpy's `WeChatClient`: that client is blocking
(requests), so every call would need a worker thread (the default pool has only a few on
a small machine, and a slow WeChat would exhaust it); it keeps the token per instance, while
ours must live in the database for every process; and it hard-codes the token URL. wechatpy
still does the webhook side: signatures, crypto, parsing and replies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from bot.errors import DeliveryFailed
from bot.types import ChannelKind, FileContent

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
"""The access token was rejected (invalid, malformed, expired): fetch a new one and retry."""

_PERMANENT: dict[int, str] = {
    45015: "outside WeChat's 48-hour window: the customer has not written for 48 hours",
    45047: "over WeChat's quota of customer-service messages; the customer must write first",
    43004: "the customer no longer follows the official account",
    40003: "WeChat does not know this customer (invalid openid)",
    45002: "the text is longer than WeChat accepts",
    48001: "the official account has no permission for the customer-service API",
}
_RATE_LIMITED: dict[int, tuple[float, str]] = {
    45009: (3600.0, "the account's daily API quota is used up"),
    45011: (60.0, "too many API calls this minute"),
}
_CONFIGURATION: dict[int, str] = {
    40013: "WeChat rejects HELPLINE_WECHAT_APP_ID",
    40125: "WeChat rejects HELPLINE_WECHAT_APP_SECRET",
    40164: "this server's IP address is not on the account's API whitelist",
    61004: "this server's IP address is not on the account's API whitelist",
}
_JSON_TYPES = ("application/json", "text/plain")
"""What WeChat labels its JSON answers with (errors from media/get among them)."""
MAX_ERRMSG_CHARS = 120
VIDEO_BYTES = 50 * 2**20
"""The most a bot may upload to Telegram: a longer video stays named in the topic's text."""
VIDEO_TIMEOUT = aiohttp.ClientTimeout(total=120)


class WeChatAPIError(Exception):
    """WeChat answered with an `errcode`, or (errcode None) could not be reached."""

    def __init__(self, errcode: int | None, detail: str) -> None:
        self.errcode = errcode
        self.detail = detail[:MAX_ERRMSG_CHARS]
        super().__init__(f"errcode {errcode}: {self.detail}" if errcode else self.detail)


def delivery_failure(exc: WeChatAPIError) -> DeliveryFailed:
    """How the outbox should treat a failed call: give up, wait, or retry with backoff."""
    channel = ChannelKind.WECHAT.value
    code = exc.errcode
    if code is None:
        return DeliveryFailed(channel, f"WeChat API not reachable: {exc.detail}")
    if code in _PERMANENT:
        return DeliveryFailed(channel, f"{_PERMANENT[code]} (errcode {code})", permanent=True)
    if code in _RATE_LIMITED:
        wait, why = _RATE_LIMITED[code]
        return DeliveryFailed(channel, f"{why} (errcode {code})", retry_after=wait)
    if code in _CONFIGURATION:
        return DeliveryFailed(channel, f"{_CONFIGURATION[code]} (errcode {code})")
    if code == -1:
        return DeliveryFailed(channel, "WeChat is busy (errcode -1)")
    return DeliveryFailed(channel, f"WeChat error {code}: {exc.detail}")


class WeChatAPI:
    def __init__(self, *, base_url: str, app_id: str, app_secret: str, timeout: float) -> None:
        self._base = base_url.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def lifetime(self, app: web.Application) -> AsyncIterator[None]:
        """`cleanup_ctx` hook: one connection pool for the app's life."""
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        yield
        session, self._session = self._session, None
        await session.close()

    async def fetch_token(self) -> tuple[str, int]:
        """A new access token and its lifetime in seconds (it invalidates the previous one)."""
        data = await self._call(
            "GET",
            "/cgi-bin/token",
            {"grant_type": "client_credential", "appid": self._app_id, "secret": self._app_secret},
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatAPIError(None, "token answer without access_token")
        try:
            expires_in = int(data.get("expires_in", 7200))
        except (TypeError, ValueError):
            expires_in = 7200
        return token, expires_in

    async def send_text(self, token: str, openid: str, text: str) -> None:
        await self._call(
            "POST",
            "/cgi-bin/message/custom/send",
            {"access_token": token},
            {"touser": openid, "msgtype": "text", "text": {"content": text}},
        )

    async def user_language(self, token: str, openid: str) -> str | None:
        """The language of the customer's WeChat app (e.g. `zh_CN`), if WeChat tells."""
        data = await self._call(
            "GET", "/cgi-bin/user/info", {"access_token": token, "openid": openid, "lang": "en"}
        )
        language = data.get("language")
        return language if isinstance(language, str) and language else None

    async def download_media(self, token: str, media_id: str) -> FileContent:
        """A photo, voice note or video a customer sent (WeChat keeps them three days)."""
        params = {"access_token": token, "media_id": media_id}
        answer = await self._request("GET", "/cgi-bin/media/get", params)
        if answer.mime_type in _JSON_TYPES:  # an error, or a video's link, told as JSON
            link = _checked(_json(answer.data)).get("video_url")
            if isinstance(link, str) and link.startswith(("http://", "https://")):
                return await self._download_video(link, media_id)
            raise WeChatAPIError(None, "media answer without the file")
        return answer

    async def _download_video(self, link: str, media_id: str) -> FileContent:
        """WeChat hands out a customer's video as a link to its file server."""
        if self._session is None:
            raise WeChatAPIError(None, "client closed")
        try:
            async with self._session.get(link, timeout=VIDEO_TIMEOUT) as response:
                if response.status != 200:
                    raise WeChatAPIError(None, f"video: HTTP {response.status}")
                data = await _read_at_most(response, VIDEO_BYTES)
                mime = response.content_type
        except aiohttp.ClientError as exc:
            raise WeChatAPIError(None, f"video: {type(exc).__name__}") from None
        except TimeoutError:
            raise WeChatAPIError(None, "video: timed out") from None
        if not mime.startswith("video/"):
            mime = "video/mp4"  # what WeChat records; its file server may label it otherwise
        return FileContent(data, mime, f"{media_id}.mp4")

    async def _call(
        self, method: str, path: str, params: dict[str, str], body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        # WeChat wants raw UTF-8: \\u escapes are not decoded by every endpoint.
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        answer = await self._request(method, path, params, data)
        return _checked(_json(answer.data))

    async def _request(
        self, method: str, path: str, params: dict[str, str], data: bytes | None = None
    ) -> FileContent:
        """The answer's body, type and file name; transport failures as WeChatAPIError."""
        if self._session is None:
            raise WeChatAPIError(None, "client closed")
        headers = {"Content-Type": "application/json; charset=utf-8"} if data else None
        try:
            async with self._session.request(
                method, self._base + path, params=params, data=data, headers=headers
            ) as response:
                if response.status != 200:
                    raise WeChatAPIError(None, f"HTTP {response.status}")
                body = await response.read()
                name = (
                    response.content_disposition.filename if response.content_disposition else None
                )
                return FileContent(body, response.content_type, name)
        except aiohttp.ClientError as exc:
            # Never the exception text: aiohttp puts the URL, with the token, into it.
            raise WeChatAPIError(None, type(exc).__name__) from None
        except TimeoutError:
            raise WeChatAPIError(None, "timed out") from None


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes:
    if (response.content_length or 0) > limit:
        raise WeChatAPIError(None, f"video larger than {limit // 2**20} MB")
    data = bytearray()
    async for chunk in response.content.iter_chunked(2**16):
        data += chunk
        if len(data) > limit:
            raise WeChatAPIError(None, f"video larger than {limit // 2**20} MB")
    return bytes(data)


def _json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WeChatAPIError(None, "JSONDecodeError") from None
    if not isinstance(payload, dict):
        raise WeChatAPIError(None, "unexpected answer")
    return payload


def _checked(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload, unless it carries one of WeChat's error codes."""
    errcode = payload.get("errcode") or 0
    if errcode:
        raise WeChatAPIError(_as_int(errcode), str(payload.get("errmsg", "")))
    return payload


def _as_int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1
