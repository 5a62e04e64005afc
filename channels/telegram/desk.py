"""The agents' chat: a Telegram forum supergroup with one topic per customer.

Implements `bot.desk.StaffDesk`. The topic is found or created through the stored mapping
(creation claimed in the database first, so a backlog never opens two topics), reopened
and renamed when the customer comes back with a new ticket, and closed with the ticket.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup, Message

from bot.chunks import merge_parts, split_text
from bot.desk import TopicStore, ticket_buttons, topic_name
from bot.errors import ChannelError, DeliveryFailed
from bot.types import Attachment, FileSource, SendProgress, StaffEvent, StaffPost
from channels.telegram.errors import CHANNEL, delivery_failure, topic_gone
from channels.telegram.media import send_attachment, sendable, upload_file
from channels.telegram.pacing import Pacer
from channels.telegram.render import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    continued_ticket,
    keyboard,
    post_text,
)

log = logging.getLogger(__name__)

CLAIM_RETRY_SECONDS = 2.0
HANDOFF_MEDIA = 5


class FileSources(Protocol):
    """Finds the channel that holds a file's bytes (`channels.files.FileLinks` does)."""

    def source_for(self, attachment: Attachment) -> FileSource | None: ...


class TelegramDesk:
    def __init__(
        self, *, bot: Bot, chat_id: int, topics: TopicStore, pacer: Pacer, claimant: str
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._topics = topics
        self._pacer = pacer
        self._claimant = claimant
        self.files: FileSources | None = None
        """Where files from other channels are fetched to be shown in the topic."""

    @property
    def chat_id(self) -> int:
        return self._chat_id

    async def problems(self) -> list[str] | None:
        """What keeps the agents' chat from working, in words an admin can act on; empty
        when all is well, None when Telegram cannot be asked right now."""
        where = f"the agents' chat ({self._chat_id})"
        try:
            chat = await self._bot.get_chat(self._chat_id)
            member = await self._bot.get_chat_member(self._chat_id, self._bot.id)
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            return [
                f"the bot cannot reach {where}: {exc.message}. Add the bot to the group, or"
                " correct HELPLINE_TELEGRAM_AGENT_CHAT_ID"
            ]
        except Exception as exc:  # a check must never keep the server from starting
            log.warning("could not check %s: %s", where, getattr(exc, "message", exc))
            return None
        found = []
        if chat.type != "supergroup" or not chat.is_forum:
            found.append(
                f"topics are off in {where}: turn on Topics in the group's settings, or no"
                " customer's messages can be shown there"
            )
        if not (
            member.status == "creator"
            or (member.status == "administrator" and getattr(member, "can_manage_topics", False))
        ):
            found.append(
                f"the bot may not manage topics in {where}: make it an administrator with the"
                " right to manage topics"
            )
        return found

    async def pace(self) -> None:
        await self._pacer.group_ready()

    async def post(
        self, posts: Sequence[StaffPost], progress: Mapping[int, SendProgress]
    ) -> str | None:
        try:
            return await self._post(posts, progress)
        except TelegramAPIError as exc:
            if not topic_gone(exc):
                raise self._failure(exc) from exc
            log.warning("topic of customer %d is gone; opening a new one", posts[0].customer_id)
            await self._topics.release(posts[0].customer_id)
            for count in progress.values():  # what went out went into the deleted topic
                await count.restart()
            try:
                await self._continue_ticket(posts)
                return await self._post(posts, progress)
            except TelegramAPIError as again:
                raise self._failure(again) from again

    async def _continue_ticket(self, posts: Sequence[StaffPost]) -> None:
        """Open the new topic with the active ticket's card and buttons, so that agents
        there can act on it (a handoff in the batch brings its own)."""
        first = posts[0]
        ticket = first.ticket
        if ticket is None or not ticket.status.is_active:
            return
        if any(post.event is StaffEvent.HANDOFF for post in posts):
            return
        thread = await self._thread_for(first)
        await self._send_text(thread, continued_ticket(first), keyboard(ticket_buttons(ticket.id)))

    async def _post(
        self, posts: Sequence[StaffPost], progress: Mapping[int, SendProgress]
    ) -> str | None:
        first, last = posts[0], posts[-1]
        thread = await self._thread_for(first)
        if len(posts) == 1:
            sent = await self._post_one(thread, first, progress[first.delivery_id])
        else:
            sent = await self._post_merged(thread, posts, progress)
        if last.event is StaffEvent.CLOSED and last.ticket and not last.ticket.status.is_active:
            await self._close_topic(last.customer_id, thread)
        return str(sent.message_id) if sent is not None else None

    async def _post_one(
        self, thread: int, post: StaffPost, progress: SendProgress
    ) -> Message | None:
        """One post: its text in parts, then its files; a short text with a single file
        is that file's caption."""
        media = [a for a in post.attachments if self._can_show(a)]
        if post.event is StaffEvent.HANDOFF:  # show the files the customer sent before
            shared = [a for m in post.recent for a in m.attachments if self._can_show(a)]
            media.extend(shared[-HANDOFF_MEDIA:])
        text = post_text(post)
        steps: list[Callable[[], Awaitable[Message | None]]]
        if len(media) == 1 and len(text) <= CAPTION_LIMIT:
            markup = keyboard(post.buttons)
            steps = [lambda: self._send_captioned(thread, media[0], text, markup)]
        else:
            parts = split_text(text, MESSAGE_LIMIT)
            markup = keyboard(post.buttons)
            steps = [
                functools.partial(
                    self._send_text, thread, part, markup if n == len(parts) - 1 else None
                )
                for n, part in enumerate(parts)
            ]
            steps.extend(functools.partial(self._send_file, thread, a) for a in media)
        sent: Message | None = None
        for index in range(progress.done, len(steps)):
            sent = await steps[index]() or sent
            await progress.sent(index + 1, last=index + 1 == len(steps))
        return sent

    async def _post_merged(
        self, thread: int, posts: Sequence[StaffPost], progress: Mapping[int, SendProgress]
    ) -> Message | None:
        """Plain text posts joined into as few messages as fit; each post's count of parts
        moves on with every message, so a retry starts at the first part not yet out."""
        parts_of = [
            split_text(post_text(post), MESSAGE_LIMIT)[progress[post.delivery_id].done :]
            for post in posts
        ]
        messages = merge_parts(parts_of, MESSAGE_LIMIT)
        sent: Message | None = None
        for index, (text, counts) in enumerate(messages):
            sent = await self._send_text(thread, text, None)
            for post, count in zip(posts, counts, strict=True):
                if count:
                    done = progress[post.delivery_id]
                    await done.sent(done.done + count, last=index == len(messages) - 1)
        return sent

    async def _send_text(
        self, thread: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> Message:
        async with self._pacer.group_send():
            return await self._bot.send_message(
                self._chat_id,
                text,
                message_thread_id=thread,
                parse_mode="HTML",
                reply_markup=markup,
            )

    async def _send_captioned(
        self, thread: int, attachment: Attachment, text: str, markup: InlineKeyboardMarkup | None
    ) -> Message:
        """The file with the text as caption; the text alone if the file cannot be had."""
        sent = await self._send_file(thread, attachment, caption=text)
        return sent if sent is not None else await self._send_text(thread, text, markup)

    def _can_show(self, attachment: Attachment) -> bool:
        """A Telegram file (resent by id), or one whose bytes another channel hands out."""
        if sendable(attachment):
            return True
        return self.files is not None and self.files.source_for(attachment) is not None

    async def _send_file(
        self, thread: int, attachment: Attachment, *, caption: str | None = None
    ) -> Message | None:
        """Post one file in the topic; None when its bytes can no longer be had (the text
        of the post still names it)."""
        if sendable(attachment):
            async with self._pacer.group_send():
                return await send_attachment(
                    self._bot, self._chat_id, attachment, thread_id=thread, caption=caption
                )
        source = self.files.source_for(attachment) if self.files is not None else None
        if source is None:
            return None
        try:
            content = await source.fetch(attachment)
        except ChannelError as exc:
            log.warning("a customer's file cannot be shown in the topic: %s", exc)
            return None
        async with self._pacer.group_send():
            return await upload_file(
                self._bot, self._chat_id, content, thread_id=thread, caption=caption
            )

    async def _thread_for(self, post: StaffPost) -> int:
        """The customer's topic: reused, reopened and renamed, or created once."""
        number = post.ticket.number if post.ticket else None
        name = topic_name(number, post.customer_name, post.channel)
        topic = await self._topics.topic(post.customer_id)
        if topic is not None and topic.thread_id is not None:
            thread = int(topic.thread_id)
            if topic.closed and post.event is not StaffEvent.CLOSED:
                await self._reopen(post.customer_id, thread, name)
            elif post.event is StaffEvent.HANDOFF and topic.name != name:
                await self._rename(post.customer_id, thread, name)
            return thread
        claimed = await self._topics.claim(
            post.customer_id, chat_id=str(self._chat_id), claimant=self._claimant
        )
        if not claimed:
            raise DeliveryFailed(
                CHANNEL, "another process is opening this topic", retry_after=CLAIM_RETRY_SECONDS
            )
        try:
            async with self._pacer.topic_create():
                created = await self._bot.create_forum_topic(self._chat_id, name)
        except TelegramAPIError:
            await self._topics.release(post.customer_id)
            raise
        thread_id = created.message_thread_id
        await self._topics.created(post.customer_id, thread_id=str(thread_id), name=name)
        log.info("opened topic %d for customer %d", thread_id, post.customer_id)
        return thread_id

    async def _reopen(self, customer_id: int, thread: int, name: str) -> None:
        try:
            await self._bot.reopen_forum_topic(self._chat_id, thread)
        except TelegramBadRequest as exc:
            if "topic_not_modified" not in exc.message.lower():
                raise
        await self._rename(customer_id, thread, name)
        await self._topics.set_state(customer_id, closed=False, name=name)

    async def _rename(self, customer_id: int, thread: int, name: str) -> None:
        try:
            await self._bot.edit_forum_topic(self._chat_id, thread, name=name)
        except TelegramBadRequest as exc:
            if "topic_not_modified" not in exc.message.lower():
                raise
        await self._topics.set_state(customer_id, closed=False, name=name)

    async def _close_topic(self, customer_id: int, thread: int) -> None:
        try:
            await self._bot.close_forum_topic(self._chat_id, thread)
        except TelegramBadRequest as exc:
            if "topic_not_modified" not in exc.message.lower():
                raise
        await self._topics.set_state(customer_id, closed=True)

    def _failure(self, exc: TelegramAPIError) -> DeliveryFailed:
        if isinstance(exc, TelegramRetryAfter):
            self._pacer.pause(float(exc.retry_after))
        return delivery_failure(exc)
