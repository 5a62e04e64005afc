"""Pure translation between aiogram objects and Helpline's channel-neutral shapes.

No network and no state: tests feed plain aiogram objects built from real Update JSON.
"""

from __future__ import annotations

from aiogram import types

from bot.desk import StaffIdentity, StaffMessage
from bot.types import Attachment, AttachmentKind, ChannelKind, InboundKind, InboundMessage

ORIGIN = "telegram"
"""Stamped on attachments: their `reference` is a file_id only this bot can resend."""


def message_key(message: types.Message) -> str:
    """The channel's own id of a message: unique per chat, the same on redelivery."""
    return f"{message.chat.id}:{message.message_id}"


def customer_message(message: types.Message) -> InboundMessage | None:
    """A private-chat message from a customer; None for service messages and bots."""
    sender = message.from_user
    if sender is None or sender.is_bot or message.chat.type != "private":
        return None
    attachments = attachments_of(message)
    text = message.text or message.caption or ""
    if not text and not attachments:
        return None
    kind = InboundKind.START if _is_start(text) else InboundKind.MESSAGE
    return InboundMessage(
        channel=ChannelKind.TELEGRAM,
        external_user_id=str(sender.id),
        chat_id=str(message.chat.id),
        text=text,
        source_message_id=message_key(message),
        display_name=sender.full_name or sender.username,
        language_hint=sender.language_code,
        attachments=attachments,
        kind=kind,
    )


def customer_edit(message: types.Message) -> InboundMessage | None:
    """An edited private message, keyed by its edit time so each edit is kept once."""
    inbound = customer_message(message)
    if inbound is None or message.edit_date is None:
        return None
    edited_at = int(message.edit_date)
    return InboundMessage(
        channel=inbound.channel,
        external_user_id=inbound.external_user_id,
        chat_id=inbound.chat_id,
        text=inbound.text,
        source_message_id=f"{message_key(message)}:edit:{edited_at}",
        display_name=inbound.display_name,
        language_hint=inbound.language_hint,
    )


def customer_button(query: types.CallbackQuery) -> InboundMessage | None:
    """A customer pressing one of our buttons in their private chat."""
    message = query.message
    if message is None or message.chat.type != "private" or not query.data:
        return None
    label = _button_label(query)
    return InboundMessage(
        channel=ChannelKind.TELEGRAM,
        external_user_id=str(query.from_user.id),
        chat_id=str(message.chat.id),
        text=label or query.data,
        source_message_id=f"cb:{query.id}",
        display_name=query.from_user.full_name,
        language_hint=query.from_user.language_code,
        kind=InboundKind.BUTTON,
        action=query.data,
    )


def staff_identity(user: types.User, admin_ids: frozenset[int]) -> StaffIdentity:
    return StaffIdentity(
        desk_user_id=str(user.id),
        display_name=user.full_name or user.username or str(user.id),
        username=user.username,
        admin=user.id in admin_ids,
    )


def staff_message(message: types.Message, admin_ids: frozenset[int]) -> StaffMessage | None:
    """Something a person wrote in the agents' chat; None for bots and service messages."""
    sender = message.from_user
    if sender is None or sender.is_bot:
        return None
    attachments = attachments_of(message)
    text = message.text or message.caption or ""
    if not text and not attachments:
        return None
    topic = message.message_thread_id if message.is_topic_message else None
    return StaffMessage(
        sender=staff_identity(sender, admin_ids),
        text=text,
        topic_id=str(topic) if topic is not None else None,
        source_message_id=f"staff:{message_key(message)}",
        attachments=attachments,
    )


def staff_button(query: types.CallbackQuery, admin_ids: frozenset[int]) -> StaffMessage | None:
    """A button pressed in the agents' chat: its action is a staff command line."""
    message = query.message
    if message is None or not query.data:
        return None
    topic = getattr(message, "message_thread_id", None)
    return StaffMessage(
        sender=staff_identity(query.from_user, admin_ids),
        text=query.data,
        topic_id=str(topic) if topic is not None else None,
        source_message_id=None,
        from_button=True,
    )


def attachments_of(message: types.Message) -> tuple[Attachment, ...]:
    """Files, voice, stickers and places, as references the bot can send on."""
    found: list[Attachment] = []
    meta = {"origin": ORIGIN}
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        found.append(
            Attachment(AttachmentKind.IMAGE, largest.file_id, size=largest.file_size, meta=meta)
        )
    for kind, item in (
        (AttachmentKind.FILE, message.document),
        (AttachmentKind.AUDIO, message.voice),
        (AttachmentKind.AUDIO, message.audio),
        (AttachmentKind.VIDEO, message.video),
        (AttachmentKind.VIDEO, message.video_note),
        (AttachmentKind.VIDEO, message.animation),
    ):
        if item is not None:
            found.append(
                Attachment(
                    kind,
                    item.file_id,
                    name=getattr(item, "file_name", None),
                    mime_type=getattr(item, "mime_type", None),
                    size=item.file_size,
                    meta={**meta, "telegram_type": type(item).__name__.lower()},
                )
            )
    if message.sticker is not None:
        found.append(
            Attachment(
                AttachmentKind.STICKER,
                message.sticker.file_id,
                name=message.sticker.emoji,
                meta=meta,
            )
        )
    if message.location is not None:
        found.append(
            Attachment(
                AttachmentKind.LOCATION,
                meta={
                    **meta,
                    "latitude": message.location.latitude,
                    "longitude": message.location.longitude,
                },
            )
        )
    if message.contact is not None:
        found.append(
            Attachment(
                AttachmentKind.CONTACT_CARD,
                name=" ".join(
                    filter(None, (message.contact.first_name, message.contact.last_name))
                ),
                meta={**meta, "phone_number": message.contact.phone_number},
            )
        )
    return tuple(found)


def _is_start(text: str) -> bool:
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return first.split("@", 1)[0].lower() == "/start"


def _button_label(query: types.CallbackQuery) -> str | None:
    message = query.message
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", None) or ():
        for button in row:
            if button.callback_data == query.data:
                return str(button.text)
    return None
