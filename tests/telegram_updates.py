"""Real Telegram Update JSON, as the Bot API posts it to a webhook."""

from __future__ import annotations

import itertools
import time
from typing import Any

AGENTS_CHAT = -1001234567890
ADMIN_ID = 7001
AGENT_ID = 7002
_update_ids = itertools.count(10_000)
_message_ids = itertools.count(1)


def user(user_id: int, first_name: str = "Anna", *, language: str | None = "en") -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language:
        data["language_code"] = language
    return data


def private_message(
    user_id: int,
    text: str | None,
    *,
    first_name: str = "Anna",
    language: str | None = "en",
    message_id: int | None = None,
    update_id: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id or next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": first_name},
        "from": user(user_id, first_name, language=language),
        **extra,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": update_id or next(_update_ids), "message": message}


def edited_message(user_id: int, message_id: int, text: str) -> dict[str, Any]:
    update = private_message(user_id, text, message_id=message_id)
    message = update.pop("message")
    message["edit_date"] = int(time.time()) + 1
    update["edited_message"] = message
    return update


def agent_message(
    text: str | None,
    *,
    thread_id: int | None,
    agent_id: int = AGENT_ID,
    first_name: str = "Li",
    username: str | None = "li_support",
    **extra: Any,
) -> dict[str, Any]:
    sender = user(agent_id, first_name)
    if username:
        sender["username"] = username
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": AGENTS_CHAT, "type": "supergroup", "title": "Support", "is_forum": True},
        "from": sender,
        **extra,
    }
    if thread_id is not None:
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": next(_update_ids), "message": message}


def button_press(
    data: str,
    *,
    from_id: int,
    chat_id: int,
    thread_id: int | None = None,
    first_name: str = "Li",
    username: str | None = "li_support",
) -> dict[str, Any]:
    sender = user(from_id, first_name)
    if username:
        sender["username"] = username
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"},
        "from": {"id": 123456789, "is_bot": True, "first_name": "Helpline"},
        "text": "…",
    }
    if thread_id is not None:
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": sender,
            "chat_instance": "ci-1",
            "message": message,
            "data": data,
        },
    }
