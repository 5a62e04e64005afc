"""Expiring values every process shares, with one refresher at a time: `system_value` rows.

A value is stored as JSON `{"value": ..., "expires_at": <epoch seconds>}` under its key; the
refresh lease lives beside it under `<key>#lease` as `{"owner": ..., "until": <epoch>}`.
Taking the lease is an insert (unique key) or a compare-and-swap update of an expired
lease, so two processes never both believe they hold it.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from bot.types import ExpiringValue
from storage import models

LEASE_SUFFIX = "#lease"
MAX_KEY_CHARS = 64 - len(LEASE_SUFFIX)


class SharedValues:
    """Implements `bot.types.ExpiringValueStore` on the `system_value` table."""

    async def read(self, key: str) -> ExpiringValue | None:
        row = await models.SystemValue.get_or_none(key=_checked(key))
        if row is None:
            return None
        try:
            data = json.loads(row.value)
            return ExpiringValue(
                str(data["value"]), datetime.fromtimestamp(float(data["expires_at"]), UTC)
            )
        except (ValueError, KeyError, TypeError):
            return None  # not ours or damaged: treated as absent, the next write replaces it

    async def try_lease(self, key: str, *, owner: str, seconds: float) -> bool:
        lease_key = _checked(key) + LEASE_SUFFIX
        claim = json.dumps({"owner": owner, "until": time.time() + seconds})
        row = await models.SystemValue.get_or_none(key=lease_key)
        if row is None:
            try:
                await models.SystemValue.create(key=lease_key, value=claim)
            except IntegrityError:
                return False  # another process took it a moment ago
            return True
        holder, until = _lease(row.value)
        if holder != owner and until > time.time():
            return False
        taken = await models.SystemValue.filter(key=lease_key, value=row.value).update(value=claim)
        return taken == 1

    async def write(self, key: str, value: str, *, expires_at: datetime, owner: str) -> None:
        record = json.dumps({"value": value, "expires_at": expires_at.timestamp()})
        key = _checked(key)
        if not await models.SystemValue.filter(key=key).update(value=record):
            try:
                await models.SystemValue.create(key=key, value=record)
            except IntegrityError:
                await models.SystemValue.filter(key=key).update(value=record)
        await self.release(key, owner=owner)

    async def release(self, key: str, *, owner: str) -> None:
        lease_key = _checked(key) + LEASE_SUFFIX
        row = await models.SystemValue.get_or_none(key=lease_key)
        if row is not None and _lease(row.value)[0] == owner:
            await models.SystemValue.filter(key=lease_key, value=row.value).delete()


def _checked(key: str) -> str:
    if not key or len(key) > MAX_KEY_CHARS:
        raise ValueError(f"shared value keys have 1 to {MAX_KEY_CHARS} characters")
    return key


def _lease(raw: str) -> tuple[str | None, float]:
    try:
        data = json.loads(raw)
        return str(data["owner"]), float(data["until"])
    except (ValueError, KeyError, TypeError):
        return None, 0.0  # unreadable: treated as expired
