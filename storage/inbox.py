"""At-most-once handling for updates whose effect must not repeat (a staff command)."""

from __future__ import annotations

from datetime import timedelta

from tortoise.exceptions import IntegrityError

from storage import models
from storage.inbound import now

KEEP = timedelta(days=7)
"""Platforms redeliver within minutes or hours; a week of keys is plenty."""


async def claim_once(key: str) -> bool:
    """True the first time a key is seen, False for every redelivery."""
    try:
        await models.InboxKey.create(key=key[:160])
    except IntegrityError:
        return False
    return True


async def forget_old_keys() -> int:
    return await models.InboxKey.filter(created_at__lt=now() - KEEP).delete()
