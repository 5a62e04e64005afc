"""The WeChat official account channel: `/wechat` for WeChat's pushes, replies out.

A push is verified, decrypted, stored through `accept` and only then answered. The handler
waits up to the reply budget for the outbox to deliver the answer, which then goes back as
the passive XML reply (see `passive.py`); otherwise it answers `success` and the answer
follows through the customer-service API. A redelivery is found by its stored id and
answered `success` at once, so no message is answered twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from wechatpy import events

from bot.errors import ChannelError, DeliveryFailed, MessageRejected, WebhookRejected
from bot.texts import Text, render
from bot.types import (
    AcceptInbound,
    Attachment,
    AttachmentKind,
    ChannelAddress,
    ChannelKind,
    ExpiringValueStore,
    FileContent,
    InboundKind,
    InboundMessage,
    OutboundReply,
    SendProgress,
    StaffEvent,
)
from channels.wechat.api import TOKEN_ERRORS, WeChatAPI, WeChatAPIError, delivery_failure
from channels.wechat.codec import Envelope, WebhookCodec, read_body
from channels.wechat.config import WeChatConfig
from channels.wechat.inbound import ORIGIN as WECHAT_ORIGIN
from channels.wechat.inbound import event_key, to_inbound
from channels.wechat.outbound import compose, split_text
from channels.wechat.passive import PassiveReplies, Waiter
from channels.wechat.tokens import AccessTokens, TokenUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
AcceptActivity = Callable[[InboundMessage, StaffEvent], Awaitable[None]]
LinkFile = Callable[[int, int, Attachment], str | None]

PATH = "/wechat"
LANGUAGE_LOOKUP_SECONDS = 1.5
RECENT_EVENTS = 10_000
_SUBSCRIBE = (events.SubscribeEvent, events.SubscribeScanEvent)


class WeChatAdapter:
    kind = ChannelKind.WECHAT

    def __init__(
        self,
        config: WeChatConfig,
        *,
        accept: AcceptInbound,
        accept_activity: AcceptActivity,
        token_store: ExpiringValueStore,
        owner: str,
    ) -> None:
        self._config = config
        self._accept = accept
        self._accept_activity = accept_activity
        self._codec = WebhookCodec(token=config.token, app_id=config.app_id, aes_key=config.aes_key)
        self._api = WeChatAPI(
            base_url=config.api_url,
            app_id=config.app_id,
            app_secret=config.app_secret,
            timeout=config.api_timeout,
        )
        self._tokens = AccessTokens(
            token_store, self._api.fetch_token, key=f"wechat_token:{config.app_id}", owner=owner
        )
        self._passive = PassiveReplies()
        self._recent_events: OrderedDict[str, None] = OrderedDict()
        self.link_file: LinkFile | None = None
        """Absolute links to agents' files (set when the server has a public URL)."""

    def mount(self, app: web.Application) -> None:
        """Routes and the API client's lifetime (mount before the runtime's cleanup context,
        so the client outlives the outbox draining at shutdown)."""
        app.router.add_get(PATH, self._verify_url)
        app.router.add_post(PATH, self._receive)
        app.cleanup_ctx.append(self._api.lifetime)
        app.on_shutdown.append(self._release_waiting)

    async def check(self) -> None:
        """Find or fetch the access token now (in the background), so that a wrong app
        secret or a missing whitelist entry shows in the log at start, not at the first
        customer."""
        try:
            await self._tokens.get()
        except WeChatAPIError as exc:
            log.error("WeChat API not usable: %s", delivery_failure(exc).reason)
        except TokenUnavailable as exc:
            log.warning("could not check the WeChat API: %s", exc)
        else:
            log.info("WeChat API checked: the access token is ready")

    async def _verify_url(self, request: web.Request) -> web.Response:
        """WeChat's server check when the URL is saved: echo `echostr` if signed by us."""
        try:
            self._codec.verify(request.query)
        except WebhookRejected as exc:
            return _refused(exc)
        return web.Response(text=request.query.get("echostr", ""))

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        deadline = asyncio.get_running_loop().time() + self._config.reply_budget
        try:
            self._codec.verify(request.query)
            envelope = self._codec.decode(await read_body(request), request.query)
        except WebhookRejected as exc:
            return _refused(exc)
        message = envelope.message
        if isinstance(message, events.BaseEvent):
            return await self._on_event(request, envelope, deadline)
        inbound = to_inbound(message)
        if inbound is None:
            log.info("wechat: acknowledged a %r message (not handled)", message.type[:32])
            return _success()
        return await self._take(request, envelope, inbound, deadline)

    async def _take(
        self, request: web.Request, envelope: Envelope, inbound: InboundMessage, deadline: float
    ) -> web.StreamResponse:
        """Store, then wait for the answer to go back passively while the budget lasts."""
        try:
            recorded = await self._accept(inbound)
        except MessageRejected as exc:
            return self._reply_now(envelope, self._refusal(exc))
        if recorded.duplicate:
            return _success()
        # No await between storing and registering: the turn cannot have answered yet.
        waiter = self._passive.expect(inbound.chat_id, after_message_id=recorded.message_id)
        return await self._answer_in_time(request, envelope, waiter, deadline)

    async def _answer_in_time(
        self, request: web.Request, envelope: Envelope, waiter: Waiter, deadline: float
    ) -> web.StreamResponse:
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            text = await self._passive.wait(waiter, remaining)
            if text is None:
                return _success()
            response = self._reply_now(envelope, text)
            try:
                await response.prepare(request)
                await response.write_eof()
            except ConnectionError:
                log.info("wechat: passive reply not written (connection closed); using the API")
            else:
                waiter.report(written=True)
            return response
        finally:
            # Cancelled (the client left) or failed: the reply takes the API instead.
            waiter.report(written=False)

    async def _on_event(
        self, request: web.Request, envelope: Envelope, deadline: float
    ) -> web.StreamResponse:
        """A new follower is greeted by the core (stored once, like a message); an
        unfollow is kept for the team; other events are acknowledged."""
        message = envelope.message
        if not self._first_sight(event_key(message)):
            return _success()  # redelivered: answered (or being answered) already
        if isinstance(message, _SUBSCRIBE):
            language = await self._customer_language(message.source, deadline)
            start = _event_message(message, language=language, kind=InboundKind.START)
            return await self._take(request, envelope, start, deadline)
        if isinstance(message, events.UnsubscribeEvent):
            await self._accept_activity(_event_message(message), StaffEvent.UNSUBSCRIBED)
        return _success()

    async def send(
        self, to: ChannelAddress, reply: OutboundReply, *, message_id: int, progress: SendProgress
    ) -> str | None:
        """Deliver in parts of WeChat's size: passively while a push waits, else by API.

        Parts already delivered (by any attempt) are not sent again.
        """
        parts = split_text(compose(reply, self._file_links(reply, message_id)))
        if parts == [""]:
            raise DeliveryFailed(self.kind, "nothing WeChat can show (empty text)", permanent=True)
        route: str | None = None
        for index in range(progress.done, len(parts)):
            if await self._passive.hand_over(to.chat_id, message_id, parts[index]):
                route = route or "passive"
            else:
                await self._send_by_api(to.chat_id, parts[index])
                route = route or "api"
            await progress.sent(index + 1, last=index + 1 == len(parts))
        return route

    # Files (implements `bot.types.FileSource`) -------------------------------------------

    def can_fetch(self, attachment: Attachment) -> bool:
        """Photos, voice notes and videos customers sent."""
        kinds = (AttachmentKind.IMAGE, AttachmentKind.AUDIO, AttachmentKind.VIDEO)
        origin = attachment.meta.get("origin") == WECHAT_ORIGIN
        return origin and attachment.kind in kinds and bool(attachment.reference)

    async def fetch(self, attachment: Attachment) -> FileContent:
        media_id = attachment.reference
        try:
            return await self._with_token(lambda token: self._api.download_media(token, media_id))
        except WeChatAPIError as exc:
            raise ChannelError(f"wechat: media not available (errcode {exc.errcode})") from exc
        except TokenUnavailable as exc:
            raise ChannelError(f"wechat: {exc}") from exc

    async def _send_by_api(self, openid: str, text: str) -> None:
        try:
            await self._with_token(lambda token: self._api.send_text(token, openid, text))
        except WeChatAPIError as exc:
            raise delivery_failure(exc) from exc
        except TokenUnavailable as exc:
            raise DeliveryFailed(self.kind, str(exc)) from exc

    async def _with_token(self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run an API call; a rejected token is refreshed (once, for all callers) and retried."""
        token = await self._tokens.get()
        try:
            return await call(token)
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("wechat: access token rejected (errcode %s); refreshing", exc.errcode)
        return await call(await self._tokens.get(rejected=token))

    async def _customer_language(self, openid: str, deadline: float) -> str:
        """The language of the customer's WeChat app when it is one we serve."""
        budget = min(LANGUAGE_LOOKUP_SECONDS, deadline - asyncio.get_running_loop().time() - 1)
        code: str | None = None
        if budget > 0:
            try:
                async with asyncio.timeout(budget):
                    code = await self._with_token(
                        lambda token: self._api.user_language(token, openid)
                    )
            except Exception as exc:  # a greeting in the default language beats none at all
                log.info("wechat: customer language unknown (%s)", type(exc).__name__)
        language = (code or "").replace("-", "_").split("_")[0].lower()
        return language if language in self._config.languages else self._config.default_language

    def _refusal(self, exc: MessageRejected) -> str:
        language = self._config.default_language
        if exc.code == "too_long":
            return render(Text.MESSAGE_TOO_LONG, language, limit=self._config.max_message_chars)
        return render(Text.EMPTY_MESSAGE, language)

    def _reply_now(self, envelope: Envelope, text: str) -> web.Response:
        # A reply too long for one passive message shows its first part; only replies
        # the outbox delivers (the turn's answers) continue through the API.
        body = self._codec.render_reply(envelope, split_text(text)[0])
        return web.Response(body=body, content_type="application/xml", charset="utf-8")

    def _first_sight(self, key: str) -> bool:
        """Spares a redelivered event the language lookup in this process; the database
        recognises it across processes."""
        if key in self._recent_events:
            return False
        self._recent_events[key] = None
        if len(self._recent_events) > RECENT_EVENTS:
            self._recent_events.popitem(last=False)
        return True

    def _file_links(self, reply: OutboundReply, message_id: int) -> list[str]:
        link = self.link_file
        if link is None:
            return []
        found = (link(message_id, index, a) for index, a in enumerate(reply.attachments))
        return [url for url in found if url]

    async def _release_waiting(self, app: web.Application) -> None:
        self._passive.close_all()


def _event_message(
    message: events.BaseEvent,
    *,
    language: str | None = None,
    kind: InboundKind = InboundKind.MESSAGE,
) -> InboundMessage:
    return InboundMessage(
        channel=ChannelKind.WECHAT,
        external_user_id=message.source,
        chat_id=message.source,
        text="",
        source_message_id=event_key(message),
        language_hint=language,
        kind=kind,
    )


def _success() -> web.Response:
    """WeChat's "received, nothing to say now": no retry, no error shown to the customer."""
    return web.Response(text="success")


def _refused(exc: WebhookRejected) -> web.Response:
    log.warning("wechat: push refused with %d: %s", exc.status, exc.reason)
    return web.Response(status=exc.status, text=exc.reason)
