"""Stored attachments and Telegram: a file_id is resent, a place re-pinned, a file fetched."""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Awaitable, Callable

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile, Message

from bot.errors import ChannelError
from bot.types import Attachment, AttachmentKind, FileContent
from channels.telegram.convert import ORIGIN

_KIND_TYPES = {
    AttachmentKind.IMAGE: "image/jpeg",  # Telegram re-encodes every photo as JPEG
    AttachmentKind.AUDIO: "audio/ogg",  # voice notes are Opus in Ogg
    AttachmentKind.VIDEO: "video/mp4",
}
"""Types by kind, for a file path without an extension."""
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
PHOTO_BYTES = 10 * 2**20
"""Telegram takes photos up to 10 MB (in these formats); other files go as documents."""
VIDEO_TYPES = ("video/mp4",)
"""Telegram plays MP4 in the chat; other videos go as documents."""


def sendable(attachment: Attachment) -> bool:
    """Only files this bot received can be resent by id; places and contacts always can."""
    if attachment.kind in (AttachmentKind.LOCATION, AttachmentKind.CONTACT_CARD):
        return True
    return attachment.meta.get("origin") == ORIGIN and bool(attachment.reference)


def fetchable(attachment: Attachment) -> bool:
    """A file this bot received; Telegram hands back files up to 20 MB."""
    kind = attachment.kind
    if kind in (AttachmentKind.LOCATION, AttachmentKind.CONTACT_CARD, AttachmentKind.LINK):
        return False
    return sendable(attachment)


async def fetch_file(bot: Bot, attachment: Attachment) -> FileContent:
    """The bytes of a file this bot received, with its type and name."""
    try:
        file = await bot.get_file(attachment.reference)
        if not file.file_path:
            raise ChannelError("telegram: the file is no longer available")
        data = await bot.download_file(file.file_path)
    except TelegramAPIError as exc:
        raise ChannelError(f"telegram: {type(exc).__name__}: {exc.message}"[:300]) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ChannelError(f"telegram: file download failed ({type(exc).__name__})") from exc
    assert data is not None
    name = attachment.name or posixpath.basename(file.file_path) or None
    guessed = mimetypes.guess_type(file.file_path)[0]
    if guessed is None and not posixpath.splitext(file.file_path)[1]:
        guessed = _KIND_TYPES.get(attachment.kind)  # no extension to go by
    mime = attachment.mime_type or guessed or "application/octet-stream"
    return FileContent(data.read(), mime, name)


async def send_attachment(
    bot: Bot,
    chat_id: int,
    attachment: Attachment,
    *,
    thread_id: int | None = None,
    caption: str | None = None,
) -> Message:
    """Send one attachment; `caption` (HTML) is used where Telegram allows one."""
    kind = attachment.kind
    kind_name = str(attachment.meta.get("telegram_type", ""))
    ref = attachment.reference
    mode = "HTML" if caption else None
    thread = thread_id
    if kind is AttachmentKind.LOCATION:
        latitude = float(attachment.meta["latitude"])
        longitude = float(attachment.meta["longitude"])
        return await bot.send_location(chat_id, latitude, longitude, message_thread_id=thread)
    if kind is AttachmentKind.CONTACT_CARD:
        phone = str(attachment.meta.get("phone_number", ""))
        name = attachment.name or "Contact"
        return await bot.send_contact(chat_id, phone, name, message_thread_id=thread)
    if kind is AttachmentKind.STICKER:
        return await bot.send_sticker(chat_id, ref, message_thread_id=thread)
    if kind is AttachmentKind.VIDEO and kind_name == "videonote":
        return await bot.send_video_note(chat_id, ref, message_thread_id=thread)
    if kind is AttachmentKind.IMAGE:
        return await bot.send_photo(
            chat_id, ref, message_thread_id=thread, caption=caption, parse_mode=mode
        )
    if kind is AttachmentKind.AUDIO and kind_name == "voice":
        return await bot.send_voice(
            chat_id, ref, message_thread_id=thread, caption=caption, parse_mode=mode
        )
    if kind is AttachmentKind.AUDIO:
        return await bot.send_audio(
            chat_id, ref, message_thread_id=thread, caption=caption, parse_mode=mode
        )
    if kind is AttachmentKind.VIDEO and kind_name == "animation":
        return await bot.send_animation(
            chat_id, ref, message_thread_id=thread, caption=caption, parse_mode=mode
        )
    if kind is AttachmentKind.VIDEO:
        return await bot.send_video(
            chat_id, ref, message_thread_id=thread, caption=caption, parse_mode=mode
        )
    return await bot.send_document(
        chat_id, ref, message_thread_id=thread, caption=caption, parse_mode=mode
    )


async def upload_file(
    bot: Bot,
    chat_id: int,
    content: FileContent,
    *,
    thread_id: int | None = None,
    caption: str | None = None,
) -> Message:
    """Send the bytes of a file no Telegram id names (a widget visitor's upload, a WeChat
    customer's photo or video)."""
    file = BufferedInputFile(content.data, filename=content.name or "file")
    send: Callable[..., Awaitable[Message]] = bot.send_document
    if content.mime_type in PHOTO_TYPES and len(content.data) <= PHOTO_BYTES:
        send = bot.send_photo
    elif content.mime_type in VIDEO_TYPES:
        send = bot.send_video
    mode = "HTML" if caption else None
    return await send(chat_id, file, message_thread_id=thread_id, caption=caption, parse_mode=mode)
