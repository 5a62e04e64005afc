"""Translating a parsed WeChat message into Helpline's `InboundMessage` (pure, no I/O)."""

from __future__ import annotations

import math
from typing import Any

from wechatpy import messages

from bot.types import Attachment, AttachmentKind, ChannelKind, InboundMessage

_VOICE_MIME = {"amr": "audio/amr", "speex": "audio/speex", "mp3": "audio/mpeg"}


def source_message_id(message: messages.BaseMessage) -> str:
    """WeChat's MsgId keyed with the sender: MsgIds have collided across users."""
    if message.id:
        return f"{message.source}:{message.id}"
    return f"{message.source}:t{message.time}"


def event_key(message: messages.BaseMessage) -> str:
    """Events carry no MsgId; WeChat's own advice is sender + CreateTime."""
    return f"{message.source}:{message.time}:{getattr(message, 'event', '')}"


def to_inbound(message: messages.BaseMessage) -> InboundMessage | None:
    """The customer's message as the core sees it; None for kinds we only acknowledge."""
    content = _content(message)
    if content is None:
        return None
    text, attachments = content
    return InboundMessage(
        channel=ChannelKind.WECHAT,
        external_user_id=message.source,
        chat_id=message.source,
        text=text,
        source_message_id=source_message_id(message),
        attachments=attachments,
    )


ORIGIN = "wechat"
"""Marks the attachments whose media ids this account's API can hand back."""


def _content(message: messages.BaseMessage) -> tuple[str, tuple[Attachment, ...]] | None:
    if isinstance(message, messages.TextMessage):
        return _text(message.content), ()
    if isinstance(message, messages.ImageMessage):
        return "", (_attachment(AttachmentKind.IMAGE, message.media_id, url=message.image),)
    if isinstance(message, messages.VoiceMessage):
        recognition = _text(message.recognition)
        voice_format = _text(message.format).lower()
        meta = {"format": voice_format, "recognition": recognition or None}
        voice = _attachment(AttachmentKind.AUDIO, message.media_id, **meta)
        mime = _VOICE_MIME.get(voice_format)
        # WeChat's speech recognition is what the customer said: answer it like text.
        return recognition, (_with_mime(voice, mime),)
    if isinstance(message, messages.VideoMessage | messages.ShortVideoMessage):
        thumb = message.thumb_media_id
        return "", (_attachment(AttachmentKind.VIDEO, message.media_id, thumb_media_id=thumb),)
    if isinstance(message, messages.LocationMessage):
        return _location(message)
    if isinstance(message, messages.LinkMessage):
        link = Attachment(
            AttachmentKind.LINK,
            reference=_text(message.url),
            name=_text(message.title) or None,
            meta=_meta(description=message.description),
        )
        return "", (link,)
    if isinstance(message, messages.MiniProgramPageMessage):
        page = Attachment(
            AttachmentKind.LINK,
            reference=_text(message.page_path),
            name=_text(message.title) or None,
            meta=_meta(mini_program=message.app_id, thumb_url=message.thumb_url),
        )
        return "", (page,)
    return None


def _location(message: messages.LocationMessage) -> tuple[str, tuple[Attachment, ...]] | None:
    try:
        latitude, longitude = float(message.location_x), float(message.location_y)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None
    scale = _text(message.scale)
    place = Attachment(
        AttachmentKind.LOCATION,
        name=_text(message.label) or None,
        meta=_meta(
            latitude=latitude,
            longitude=longitude,
            scale=int(scale) if scale.isdigit() else None,
            label=message.label,
        ),
    )
    return "", (place,)


def _attachment(kind: AttachmentKind, media_id: object, **meta: Any) -> Attachment:
    """A file WeChat holds for us under a media id (see `WeChatAdapter.fetch`)."""
    return Attachment(kind, reference=_text(media_id), meta=_meta(origin=ORIGIN, **meta))


def _with_mime(attachment: Attachment, mime: str | None) -> Attachment:
    if mime is None:
        return attachment
    return Attachment(attachment.kind, attachment.reference, mime_type=mime, meta=attachment.meta)


def _meta(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
