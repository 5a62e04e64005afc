"""A fake WeChat on 127.0.0.1: its API server and its side of the webhook.

`FakeWeChatAPI` serves `/cgi-bin/token`, `/cgi-bin/message/custom/send`,
`/cgi-bin/user/info` and `/cgi-bin/media/get` the way api.weixin.qq.com does (JSON,
`errcode` in a 200 answer; media as the file itself, a video as a link to it),
records every call, and can answer with WeChat's error codes or slowly. `WeChatPush` builds
pushes as WeChat does: signed, and in safe mode encrypted with `WeChatCrypto`.
"""

from __future__ import annotations

import asyncio
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from wechatpy.crypto import WeChatCrypto

from channels.wechat.codec import sign
from tests.waiting import eventually

if TYPE_CHECKING:
    from bot.app import Runtime
    from tests.conftest import SettingsFactory

APP_ID = "wx1234567890abcdef"
APP_SECRET = "fake-app-secret"
TOKEN = "helplineToken42"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_0123456789ab"
TEXT_LIMIT = 2048


@dataclass(frozen=True, slots=True)
class SentText:
    openid: str
    content: str
    token: str


@dataclass
class _Failure:
    errcode: int
    openid: str | None
    times: int
    after: int = 0
    """Sends to let through first (the earlier parts of a long reply)."""


@dataclass
class FakeWeChatAPI:
    expires_in: int = 7200
    app_secret: str = APP_SECRET
    """The secret WeChat expects (another one: the account's secret was reset)."""
    delay: float = 0.0
    """Seconds every customer-service send takes (a slow WeChat)."""
    token_calls: int = 0
    info_calls: int = 0
    sent: list[SentText] = field(default_factory=list)
    attempts: list[SentText] = field(default_factory=list)
    languages: dict[str, str] = field(default_factory=dict)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """Files customers sent, by media id: their type and bytes."""
    videos: dict[str, bytes | None] = field(default_factory=dict)
    """Customers' videos by media id: media/get answers with a link, served at /video/
    (None: the link no longer works)."""
    _issued: list[str] = field(default_factory=list)
    _valid: set[str] = field(default_factory=set)
    _failures: list[_Failure] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_get("/cgi-bin/user/info", self._user_info)
        app.router.add_get("/cgi-bin/media/get", self._media)
        app.router.add_get("/video/{media_id}.mp4", self._video)
        return app

    def fail_next(
        self, errcode: int, *, times: int = 1, openid: str | None = None, after: int = 0
    ) -> None:
        """Answer the next `times` sends (to `openid`, or anyone) with `errcode`, once
        `after` sends have gone through."""
        self._failures.append(_Failure(errcode, openid, times, after))

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001 (access_token expired)."""
        self._valid.clear()

    def texts_to(self, openid: str) -> list[str]:
        return [s.content for s in self.sent if s.openid == openid]

    async def _token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "client_credential" or query.get("appid") != APP_ID:
            return _error(40013, "invalid appid")
        if query.get("secret") != self.app_secret:
            return _error(40125, "invalid appsecret")
        self.token_calls += 1
        token = f"ACCESS_TOKEN_{self.token_calls}"
        self._issued.append(token)
        self._valid.add(token)
        return web.json_response({"access_token": token, "expires_in": self.expires_in})

    async def _custom_send(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        token = request.query.get("access_token", "")
        body = json.loads((await request.read()).decode("utf-8"))
        openid, content = body["touser"], body["text"]["content"]
        assert body["msgtype"] == "text"
        self.attempts.append(SentText(openid, content, token))
        if (denied := self._check_token(token)) is not None:
            return denied
        for failure in self._failures:
            if failure.times > 0 and failure.openid in (None, openid):
                if failure.after > 0:
                    failure.after -= 1
                    continue
                failure.times -= 1
                if failure.errcode in (40001, 42001):
                    self._valid.discard(token)
                return _error(failure.errcode, "simulated")
        if len(content.encode("utf-8")) > TEXT_LIMIT:
            return _error(45002, "content size out of limit")
        self.sent.append(SentText(openid, content, token))
        return _error(0, "ok")

    async def _user_info(self, request: web.Request) -> web.Response:
        if (denied := self._check_token(request.query.get("access_token", ""))) is not None:
            return denied
        self.info_calls += 1
        openid = request.query["openid"]
        return web.json_response(
            {"subscribe": 1, "openid": openid, "language": self.languages.get(openid, "zh_CN")}
        )

    async def _media(self, request: web.Request) -> web.Response:
        if (denied := self._check_token(request.query.get("access_token", ""))) is not None:
            return denied
        media_id = request.query.get("media_id", "")
        if media_id in self.videos:  # WeChat answers a video with a link to its file
            link = f"{request.url.origin()}/video/{media_id}.mp4"
            return web.Response(text=json.dumps({"video_url": link}), content_type="text/plain")
        found = self.media.get(media_id)
        if found is None:
            # WeChat labels this JSON as text/plain.
            body = json.dumps({"errcode": 40007, "errmsg": "invalid media_id"})
            return web.Response(text=body, content_type="text/plain")
        mime, data = found
        disposition = f'attachment; filename="{request.query["media_id"]}.jpg"'
        return web.Response(
            body=data, content_type=mime, headers={"Content-Disposition": disposition}
        )

    async def _video(self, request: web.Request) -> web.Response:
        data = self.videos.get(request.match_info["media_id"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="video/mp4")

    def _check_token(self, token: str) -> web.Response | None:
        if token in self._valid:
            return None
        if token in self._issued:
            return _error(42001, "access_token expired")
        return _error(40001, "invalid credential")


def _error(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})


class WeChatPush:
    """WeChat's side of the webhook: pushes built and signed as WeChat builds them."""

    def __init__(self, session: aiohttp.ClientSession, url: str, *, mode: str = "plain") -> None:
        self.session = session
        self.url = url
        self.mode = mode  # "plain", "safe" or "compatible"
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        self._nonce = 0

    @staticmethod
    def text(openid: str, content: str, msg_id: int) -> str:
        return _xml(openid, "text", {"Content": content, "MsgId": msg_id})

    @staticmethod
    def message(openid: str, msg_type: str, msg_id: int, **fields: object) -> str:
        return _xml(openid, msg_type, {"MsgId": msg_id, **fields})

    @staticmethod
    def event(openid: str, event: str, *, create_time: int, **fields: object) -> str:
        return _xml(openid, "event", {"Event": event, **fields}, create_time=create_time)

    async def post(
        self, xml: str, *, forge: str | None = None, give_up_after: float = 30.0
    ) -> tuple[int, str]:
        """POST as WeChat does; `forge` breaks the "signature" or the "msg_signature"."""
        body, query = self.signed(xml, forge=forge)
        return await self.raw_post(body, query, give_up_after=give_up_after)

    def signed(self, xml: str, *, forge: str | None = None) -> tuple[bytes, dict[str, str]]:
        timestamp, nonce = str(int(time.time())), self._next_nonce()
        openid = ET.fromstring(xml).findtext("FromUserName") or ""
        query = {"timestamp": timestamp, "nonce": nonce, "openid": openid}
        query["signature"] = sign(TOKEN, timestamp, nonce)
        body = xml
        if self.mode != "plain":
            encrypted = ET.fromstring(self.crypto.encrypt_message(xml, nonce, timestamp))
            secret = encrypted.findtext("Encrypt") or ""
            query["encrypt_type"] = "aes"
            query["msg_signature"] = sign(TOKEN, timestamp, nonce, secret)
            plain_part = xml.removeprefix("<xml>").removesuffix("</xml>")
            shown = plain_part if self.mode == "compatible" else _cdata("ToUserName", ACCOUNT)
            body = f"<xml>{shown}{_cdata('Encrypt', secret)}</xml>"
        if forge is not None:
            query[forge] = "0" * 40
        return body.encode("utf-8"), query

    async def raw_post(
        self,
        body: bytes,
        query: dict[str, str] | None = None,
        *,
        give_up_after: float = 30.0,
    ) -> tuple[int, str]:
        """Any body, signed correctly (plaintext mode) unless `query` says otherwise."""
        if query is None:
            timestamp, nonce = str(int(time.time())), self._next_nonce()
            query = {"timestamp": timestamp, "nonce": nonce}
            query["signature"] = sign(TOKEN, timestamp, nonce)
        async with self.session.post(
            self.url, params=query, data=body, timeout=aiohttp.ClientTimeout(total=give_up_after)
        ) as response:
            return response.status, await response.text()

    async def verify_url(self, echostr: str, *, forge: bool = False) -> tuple[int, str]:
        timestamp, nonce = str(int(time.time())), self._next_nonce()
        signature = "0" * 40 if forge else sign(TOKEN, timestamp, nonce)
        query = {"signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": echostr}
        async with self.session.get(self.url, params=query) as response:
            return response.status, await response.text()

    def reply_fields(self, body: str) -> dict[str, str]:
        """The passive reply's fields, decrypted (and its signature checked) in safe mode."""
        root = ET.fromstring(body)
        if self.mode != "plain":
            envelope = {child.tag: child.text or "" for child in root}
            expected = sign(TOKEN, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"])
            assert envelope["MsgSignature"] == expected, "reply signature does not verify"
            plain = self.crypto.decrypt_message(
                body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
            )
            root = ET.fromstring(plain)
        return {child.tag: child.text or "" for child in root}

    def _next_nonce(self) -> str:
        self._nonce += 1
        return f"n{self._nonce}"


def _cdata(name: str, value: object) -> str:
    if isinstance(value, int | float):
        return f"<{name}>{value}</{name}>"
    return f"<{name}><![CDATA[{value}]]></{name}>"


def _xml(
    openid: str, msg_type: str, fields: dict[str, object], *, create_time: int | None = None
) -> str:
    head = (
        _cdata("ToUserName", ACCOUNT)
        + _cdata("FromUserName", openid)
        + _cdata("CreateTime", create_time or int(time.time()))
        + _cdata("MsgType", msg_type)
    )
    return "<xml>" + head + "".join(_cdata(k, v) for k, v in fields.items()) + "</xml>"


@dataclass
class WeChatWorld:
    """Helpline serving WeChat against the fake, and WeChat's side to talk to it."""

    api: FakeWeChatAPI
    push: WeChatPush
    url: str
    runtime: Runtime
    server: TestServer

    async def api_wait(
        self, predicate: Callable[[FakeWeChatAPI], object], *, within: float = 10.0
    ) -> None:
        """Wait until `predicate(api)` holds (the fake saw what the test waits for)."""

        async def seen() -> bool:
            return bool(predicate(self.api))

        await eventually(seen, within=within)


@asynccontextmanager
async def wechat_world(
    make_settings: SettingsFactory,
    *,
    mode: str = "plain",
    api: FakeWeChatAPI | None = None,
    **overrides: Any,
) -> AsyncIterator[WeChatWorld]:
    from bot.app import RUNTIME, create_app

    api = api or FakeWeChatAPI()
    api_server = TestServer(api.app(), host="127.0.0.1")
    await api_server.start_server()
    overrides.setdefault("wechat_reply_budget", 1.5)  # quick tests; production waits 4 s
    settings = make_settings(
        wechat_token=TOKEN,
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_aes_key=AES_KEY if mode != "plain" else None,
        wechat_api_url=str(api_server.make_url("")).rstrip("/"),
        **overrides,
    )
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    try:
        async with aiohttp.ClientSession() as session:
            push = WeChatPush(session, url + "/wechat", mode=mode)
            yield WeChatWorld(api, push, url, app[RUNTIME], server)
    finally:
        await server.close()
        await api_server.close()
