"""How staff posts and replies look in Telegram: HTML text, escaped, within the limits."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.types import (
    Attachment,
    AttachmentKind,
    Button,
    Direction,
    MessageView,
    SenderKind,
    StaffEvent,
    StaffPost,
    StaffPostKind,
)

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
RECENT_PREVIEW_CHARS = 300

_EVENT_ICONS = {
    StaffEvent.ASSIGNED: "👤",
    StaffEvent.STATUS: "🔄",
    StaffEvent.PRIORITY: "⚡",
    StaffEvent.CLOSED: "✅",
    StaffEvent.REOPENED: "↩️",
    StaffEvent.AI: "🤖",
    StaffEvent.DELIVERY_FAILED: "⚠️",
    StaffEvent.RATED: "⭐",
    StaffEvent.TAGGED: "🏷",
    StaffEvent.DRAFT: "📝",
}


def keyboard(buttons: Sequence[Button], *, per_row: int = 5) -> InlineKeyboardMarkup | None:
    usable = [b for b in buttons if len(b.action.encode()) <= CALLBACK_DATA_LIMIT]
    if not usable:
        return None
    rows = [usable[i : i + per_row] for i in range(0, len(usable), per_row)]
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.label, callback_data=b.action) for b in row]
            for row in rows
        ]
    )


def customer_text(text: str, author_name: str | None, sender: SenderKind) -> str:
    """What a customer sees: an agent's reply carries their name."""
    body = escape(text, quote=False)
    if sender is SenderKind.AGENT and author_name:
        return f"<b>{escape(author_name, quote=False)}</b>\n{body}"
    return body


def post_text(post: StaffPost) -> str:
    """One staff post as HTML; a handoff becomes the full summary."""
    if post.event is StaffEvent.HANDOFF:
        return handoff_summary(post)
    body = escape(post.text, quote=False)
    files = attachment_lines(post.attachments)
    if files:
        body = f"{body}\n{files}" if body else files
    name = _customer_name(post)
    if post.translation:
        body = f"{body}\n🌐 <i>{escape(post.translation, quote=False)}</i>"
    if post.kind is StaffPostKind.DRAFT:
        return f"📝 <b>AI draft</b> for the customer, not sent yet:\n{body}"
    if post.event is StaffEvent.EDITED:
        return f"✏️ <b>{name}</b> edited a message:\n{body}"
    if post.event is StaffEvent.UNSUBSCRIBED:
        return f"🚪 <b>{name}</b> unfollowed; messages cannot reach them any more."
    if post.kind is StaffPostKind.CUSTOMER:
        return f"👤 <b>{name}</b>:\n{body}"
    if post.kind is StaffPostKind.BOT:
        return f"🤖 <i>Bot to customer:</i>\n{body}"
    if post.kind is StaffPostKind.AGENT:
        return (
            f"🧑‍💼 <b>{escape(post.author_name or 'Agent', quote=False)}</b> to customer:\n{body}"
        )
    if post.kind is StaffPostKind.NOTE:
        author = escape(post.author_name or "staff", quote=False)
        return f"📝 <i>Note by {author}</i> (not sent):\n{body}"
    icon = _EVENT_ICONS.get(post.event, "ℹ️") if post.event else "ℹ️"
    return f"{icon} {body}"


def handoff_summary(post: StaffPost) -> str:
    ticket = post.ticket
    lines = []
    if ticket is not None:
        lines.append(
            f"🆘 <b>Ticket #{ticket.number}</b> · {ticket.priority.value} priority"
            + (f" · {escape(ticket.category, quote=False)}" if ticket.category else "")
        )
    language = f", {post.language}" if post.language else ""
    lines.append(f"Customer: <b>{_customer_name(post)}</b> ({post.channel.value}{language})")
    lines.append(f"Why: {escape(post.text, quote=False)}")
    if ticket is not None and ticket.subject and ticket.subject != post.text:
        lines.append(f"Asked: <i>{escape(ticket.subject, quote=False)}</i>")
    if post.recent:
        lines.append("")
        lines.append("<b>Recent messages</b>")
        lines.extend(_recent_line(message, post) for message in post.recent)
    lines.append("")
    lines.append("Write here to answer the customer; /help lists the commands.")
    return "\n".join(lines)


def continued_ticket(post: StaffPost) -> str:
    """The first post of a topic opened because staff deleted the ticket's previous one."""
    ticket = post.ticket
    assert ticket is not None
    name = _customer_name(post)
    return "\n".join(
        [
            f"♻️ <b>Ticket #{ticket.number}</b> continues here: its previous topic was deleted.",
            f"Customer: <b>{name}</b> ({post.channel.value}) · {ticket.status.value} · "
            f"{ticket.priority.value} priority",
            "",
            "/ticket shows its history; write here to answer the customer.",
        ]
    )


def _customer_name(post: StaffPost) -> str:
    return escape(post.customer_name or "Customer", quote=False)


def _recent_line(message: MessageView, post: StaffPost) -> str:
    text = " ".join(message.text.split())
    if len(text) > RECENT_PREVIEW_CHARS:
        text = text[: RECENT_PREVIEW_CHARS - 1] + "…"
    body = escape(text, quote=False)
    if message.translation:
        body = f"{body} <i>(🌐 {escape(message.translation, quote=False)})</i>"
    files = attachment_lines(message.attachments)
    if files:
        body = f"{body} {files}".strip()
    if message.direction is Direction.INCOMING:
        who = f"👤 {_customer_name(post)}"
    elif message.sender_kind is SenderKind.AGENT:
        who = f"🧑‍💼 {escape(message.author_name or 'Agent', quote=False)}"
    else:
        who = "🤖 Bot"
    return f"{who}: {body}"


def attachment_lines(attachments: Sequence[Attachment]) -> str:
    return " ".join(_describe(a) for a in attachments)


def _describe(attachment: Attachment) -> str:
    if attachment.kind is AttachmentKind.LOCATION:
        lat, lon = attachment.meta.get("latitude"), attachment.meta.get("longitude")
        return f"📍 location {lat}, {lon}"
    label = {
        AttachmentKind.IMAGE: "🖼 photo",
        AttachmentKind.FILE: "📄 file",
        AttachmentKind.AUDIO: "🎤 audio",
        AttachmentKind.VIDEO: "🎬 video",
        AttachmentKind.STICKER: "🏷 sticker",
        AttachmentKind.CONTACT_CARD: "📇 contact",
        AttachmentKind.LINK: "🔗 link",
    }[attachment.kind]
    name = attachment.name or (
        attachment.reference
        if attachment.kind is AttachmentKind.LINK or attachment.meta.get("origin") != "telegram"
        else ""
    )
    return f"[{label}{': ' + escape(str(name), quote=False) if name else ''}]"
