"""The Telegram channel: customers in private chats, staff in the agents' forum group.

Updates arrive at `POST /telegram/webhook` (or by long polling in development). Each one
is checked, parsed, handed to the core, and only then acknowledged: the core stores a
message before `accept` returns, so a 200 always means "on disk", and anything that fails
before that gets a 500 and is redelivered by Telegram.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, types
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods.base import Response
from aiohttp import web
from pydantic import ValidationError

from bot.chunks import split_text
from bot.desk import DeskReply, StaffMessage, TopicStore
from bot.errors import DeliveryFailed, MessageRejected
from bot.texts import Text, render
from bot.types import (
    AcceptInbound,
    Attachment,
    ChannelAddress,
    ChannelKind,
    FileContent,
    InboundMessage,
    OutboundReply,
    SendProgress,
)
from channels.telegram import convert
from channels.telegram.desk import TelegramDesk
from channels.telegram.errors import delivery_failure
from channels.telegram.media import fetch_file, fetchable, send_attachment, sendable
from channels.telegram.pacing import Limits, Pacer
from channels.telegram.render import MESSAGE_LIMIT, customer_text, keyboard
from channels.telegram.session import JsonSession

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
POLL_TIMEOUT_SECONDS = 25
POLL_BACKOFF_MAX = 60.0
FILES_NOTE_LIMIT = 10
EDIT_NOT_SENT = (
    "✏️ Edits are not passed on: a customer who got this message keeps the first version."
    " Send the correction as a new message."
)
TOAST_LIMIT = 200
"""Telegram shows at most 200 characters in a button's answer."""

# pydantic keeps parametrised generic models in a weak cache, and aiogram parametrises
# `Response[...]` for every API call: without a strong reference the class is rebuilt again
# and again under load (measured at about a tenth of a send's CPU time).
_RESPONSE_TYPES = tuple(
    Response[kind]  # type: ignore[valid-type]
    for kind in (types.Message, bool, types.ForumTopic, list[types.Update], types.User, types.File)
)

AcceptEdit = Callable[[InboundMessage], Awaitable[None]]
HandleStaff = Callable[[StaffMessage, DeskReply], Awaitable[None]]
ClaimOnce = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    token: str
    mode: str
    webhook_secret: str | None
    api_url: str
    api_is_local: bool
    agent_chat_id: int | None
    admin_ids: frozenset[int]
    limits: Limits
    public_url: str | None


class TelegramChannel:
    """Implements `bot.types.ChannelAdapter` for Telegram, and owns the agents' desk."""

    kind = ChannelKind.TELEGRAM

    def __init__(
        self,
        settings: TelegramSettings,
        *,
        accept: AcceptInbound,
        accept_edit: AcceptEdit,
        handle_staff: HandleStaff,
        claim_once: ClaimOnce,
        topics: TopicStore,
        claimant: str,
    ) -> None:
        self._settings = settings
        api = TelegramAPIServer.from_base(settings.api_url, is_local=settings.api_is_local)
        self.bot = Bot(
            settings.token,
            session=JsonSession(api=api),
            default=DefaultBotProperties(link_preview_is_disabled=True),
        )
        self._accept = accept
        self._accept_edit = accept_edit
        self._handle_staff = handle_staff
        self._claim_once = claim_once
        self.pacer = Pacer(settings.limits)
        self.desk: TelegramDesk | None = None
        if settings.agent_chat_id is not None:
            self.desk = TelegramDesk(
                bot=self.bot,
                chat_id=settings.agent_chat_id,
                topics=topics,
                pacer=self.pacer,
                claimant=claimant,
            )

    # Files (implements `bot.types.FileSource`) ---------------------------------------------

    def can_fetch(self, attachment: Attachment) -> bool:
        return fetchable(attachment)

    async def fetch(self, attachment: Attachment) -> FileContent:
        return await fetch_file(self.bot, attachment)

    def mount(self, app: web.Application) -> None:
        if self._settings.mode == "webhook":
            app.router.add_post(WEBHOOK_PATH, self._webhook)

    # Lifecycle ---------------------------------------------------------------------------

    async def check_desk(self) -> None:
        """Tell the admin what keeps the agents' chat from working (run in the background:
        an unreachable Bot API must not hold up the start)."""
        if self.desk is None:
            return
        problems = await self.desk.problems()
        for problem in problems or ():
            log.error("agents' chat misconfigured: %s", problem)
        if problems == []:
            log.info("agents' chat %d checked: topics on, the bot manages them", self.desk.chat_id)

    async def start(self) -> None:
        """Register the webhook with Telegram when we know our public URL."""
        if self._settings.mode != "webhook" or not self._settings.public_url:
            return
        url = self._settings.public_url + WEBHOOK_PATH
        try:
            await self.bot.set_webhook(
                url,
                secret_token=self._settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        except TelegramAPIError as exc:
            log.error("could not register the Telegram webhook: %s", exc.message)
            return
        log.info("Telegram webhook registered at %s", url)

    async def poll_forever(self) -> None:
        """Long polling: an update is confirmed to Telegram only after it was handled."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        backoff = 1.0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=ALLOWED_UPDATES
                )
                for update in updates:
                    await self._route(update)
                    offset = update.update_id + 1
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Telegram polling failed (%s); retrying in %.0fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(POLL_BACKOFF_MAX, backoff * 2)

    async def close(self) -> None:
        await self.bot.session.close()

    # Incoming ----------------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        expected = self._settings.webhook_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=401, text="Unauthorized")
        try:
            payload = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="the body is not JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return web.Response(status=400, text="not a Telegram update")
        try:
            update = types.Update.model_validate(payload, context={"bot": self.bot})
        except ValidationError:
            return web.Response(status=400, text="not a Telegram update")
        await self._route(update)
        return web.Response(status=200)

    async def _route(self, update: types.Update) -> None:
        """Three kinds of update matter; every other kind is acknowledged and ignored.

        Routing here rather than through aiogram's Dispatcher: with one handler per kind
        and the state in storage, its middleware chain would only cost time.
        """
        if update.message is not None:
            await self._on_message(update.message)
        elif update.edited_message is not None:
            await self._on_edit(update.edited_message)
        elif update.callback_query is not None:
            await self._on_button(update.callback_query)

    def _in_agents_chat(self, chat_id: int) -> bool:
        return self.desk is not None and chat_id == self.desk.chat_id

    async def _on_message(self, message: types.Message) -> None:
        if self._in_agents_chat(message.chat.id):
            await self._on_staff_message(message)
            return
        inbound = convert.customer_message(message)
        if inbound is None:
            return
        try:
            await self._accept(inbound)
        except MessageRejected as exc:
            await self._refuse(inbound, exc)

    async def _on_edit(self, message: types.Message) -> None:
        if self._in_agents_chat(message.chat.id):
            await self._on_staff_edit(message)
            return
        inbound = convert.customer_edit(message)
        if inbound is not None:
            await self._accept_edit(inbound)

    async def _on_staff_message(self, message: types.Message) -> None:
        staff = convert.staff_message(message, self._settings.admin_ids)
        if staff is None:
            return
        if staff.text.lstrip().startswith("/") and not await self._claim_once(
            f"telegram:{staff.source_message_id}"
        ):
            return  # a redelivered command has already run
        thread = message.message_thread_id if message.is_topic_message else None

        async def reply(text: str) -> None:
            await self._reply_in_desk(text, thread, message.message_id)

        await self._handle_staff(staff, reply)

    async def _on_staff_edit(self, message: types.Message) -> None:
        """An agent's edit cannot unsay what the customer already received: say so in the
        topic, once per message however often it is edited."""
        if not message.is_topic_message or message.from_user is None or message.from_user.is_bot:
            return
        if (message.text or message.caption or "").lstrip().startswith("/"):
            return  # a command, not a reply
        if await self._claim_once(f"telegram:edit:{message.message_id}"):
            await self._reply_in_desk(EDIT_NOT_SENT, message.message_thread_id, message.message_id)

    async def _on_button(self, query: types.CallbackQuery) -> None:
        chat_id = query.message.chat.id if query.message is not None else None
        if chat_id is not None and self._in_agents_chat(chat_id):
            staff = convert.staff_button(query, self._settings.admin_ids)
            if staff is not None and await self._claim_once(f"telegram:cb:{query.id}"):
                answers: list[str] = []

                async def reply(text: str) -> None:
                    answers.append(text)

                await self._handle_staff(staff, reply)
                answer = "\n".join(answers)
                if query.message is not None and (len(answer) > TOAST_LIMIT or "\n" in answer):
                    # Too much for a toast (a draft to edit, say): post it in the topic.
                    thread = getattr(query.message, "message_thread_id", None)
                    await self._reply_in_desk(answer, thread, query.message.message_id)
                    answer = "Done; see the topic."
                await self._answer(query, answer)
                return
            await self._answer(query, "")
            return
        inbound = convert.customer_button(query)
        if inbound is not None:
            await self._accept(inbound)
        await self._answer(query, "")

    async def _answer(self, query: types.CallbackQuery, text: str) -> None:
        try:
            await query.answer(text[:200] or None)
        except TelegramAPIError as exc:  # the button press is handled; the toast is cosmetic
            log.info("could not answer a button press: %s", exc.message)

    async def _refuse(self, inbound: InboundMessage, exc: MessageRejected) -> None:
        """Tell the customer why a message was not accepted, in their language."""
        language = inbound.language_hint.split("-")[0] if inbound.language_hint else None
        key = Text.MESSAGE_TOO_LONG if exc.code == "too_long" else Text.EMPTY_MESSAGE
        limit = "".join(ch for ch in exc.detail if ch.isdigit())
        try:
            async with self.pacer.customer_send(inbound.chat_id):
                text = render(key, language, limit=limit)
                await self.bot.send_message(int(inbound.chat_id), text)
        except TelegramAPIError as error:
            log.warning("could not tell a customer their message was refused: %s", error.message)

    async def _reply_in_desk(self, text: str, thread: int | None, to_message: int) -> None:
        if self.desk is None or not text:
            return
        for part in split_text(text, MESSAGE_LIMIT):
            try:
                async with self.pacer.group_send():
                    await self.bot.send_message(
                        self.desk.chat_id,
                        part,
                        message_thread_id=thread,
                        reply_parameters=types.ReplyParameters(
                            message_id=to_message, allow_sending_without_reply=True
                        ),
                    )
            except TelegramRetryAfter as exc:
                self.pacer.pause(float(exc.retry_after))
                log.warning("agents' chat is rate limited; a command answer was not shown")
                return
            except TelegramAPIError as exc:
                log.warning("could not answer a staff command: %s", exc.message)
                return

    # Outgoing ----------------------------------------------------------------------------

    async def send(
        self, to: ChannelAddress, reply: OutboundReply, *, message_id: int, progress: SendProgress
    ) -> str | None:
        """Deliver a reply; parts already sent (by any attempt) are not sent again."""
        chat = int(to.chat_id)
        steps = self._steps(reply)
        sent_id: str | None = None
        try:
            for index in range(progress.done, len(steps)):
                async with self.pacer.customer_send(to.chat_id):
                    sent_id = await steps[index](chat)
                await progress.sent(index + 1, last=index + 1 == len(steps))
        except TelegramAPIError as exc:
            if isinstance(exc, TelegramRetryAfter):
                self.pacer.pause(float(exc.retry_after))
            raise delivery_failure(exc) from exc
        return sent_id

    def _steps(self, reply: OutboundReply) -> list[Callable[[int], Awaitable[str]]]:
        """The messages one reply becomes: text parts, then the files we can resend."""
        files = [a for a in reply.attachments if sendable(a)]
        if len(files) < len(reply.attachments):
            log.warning(
                "%d attachments cannot be resent on Telegram", len(reply.attachments) - len(files)
            )
        text = reply.text
        header = len(reply.author_name or "") + 10
        parts = split_text(text, MESSAGE_LIMIT - header) if text.strip() else []
        steps: list[Callable[[int], Awaitable[str]]] = []
        for index, part in enumerate(parts):
            markup = keyboard(reply.buttons) if index == len(parts) - 1 else None
            body = customer_text(part, reply.author_name if index == 0 else None, reply.sender_kind)
            steps.append(self._text_step(body, markup))
        for attachment in files[:FILES_NOTE_LIMIT]:
            steps.append(self._file_step(attachment))
        return steps

    def _text_step(self, body: str, markup: Any) -> Callable[[int], Awaitable[str]]:
        async def step(chat: int) -> str:
            sent = await self.bot.send_message(chat, body, parse_mode="HTML", reply_markup=markup)
            return str(sent.message_id)

        return step

    def _file_step(self, attachment: Any) -> Callable[[int], Awaitable[str]]:
        async def step(chat: int) -> str:
            sent = await send_attachment(self.bot, chat, attachment)
            return str(sent.message_id)

        return step


__all__ = ["DeliveryFailed", "TelegramChannel", "TelegramSettings"]
