"""Sending a stored attachment through Telegram: a file_id is resent, a place re-pinned."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import Message

from bot.types import Attachment, AttachmentKind
from channels.telegram.convert import ORIGIN


def sendable(attachment: Attachment) -> bool:
    """Only files this bot received can be resent by id; places and contacts always can."""
    if attachment.kind in (AttachmentKind.LOCATION, AttachmentKind.CONTACT_CARD):
        return True
    return attachment.meta.get("origin") == ORIGIN and bool(attachment.reference)


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
