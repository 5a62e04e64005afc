"""aiogram's exceptions, translated into Helpline's at the edge of the channel."""

from __future__ import annotations

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.errors import DeliveryFailed

CHANNEL = "telegram"
_TOPIC_GONE = ("thread not found", "topic_deleted", "topic_id_invalid", "topic not found")


def topic_gone(exc: TelegramAPIError) -> bool:
    """Staff deleted the customer's topic in the chat: open a new one."""
    return isinstance(exc, TelegramBadRequest) and any(
        marker in exc.message.lower() for marker in _TOPIC_GONE
    )


def delivery_failure(exc: TelegramAPIError) -> DeliveryFailed:
    """Which failures retrying can fix, and how long to wait before it."""
    reason = f"{type(exc).__name__}: {exc.message}"[:300]
    if isinstance(exc, TelegramRetryAfter):
        return DeliveryFailed(CHANNEL, reason, retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramNetworkError | TelegramServerError | TelegramUnauthorizedError):
        return DeliveryFailed(CHANNEL, reason)  # a wrong token is fixed in config, not lost
    if isinstance(
        exc,
        TelegramForbiddenError | TelegramNotFound | TelegramBadRequest | TelegramMigrateToChat,
    ):
        return DeliveryFailed(CHANNEL, reason, permanent=True)
    return DeliveryFailed(CHANNEL, reason)
