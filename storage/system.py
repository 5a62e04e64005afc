"""Shared values every server and CLI process must agree on, kept in the database."""

from __future__ import annotations

import secrets

from tortoise.exceptions import IntegrityError

from storage import models


async def shared_secret(key: str) -> str:
    """A random secret created once and then read by every process (e.g. widget signing)."""
    row = await models.SystemValue.get_or_none(key=key)
    if row is not None:
        return row.value
    try:
        created = await models.SystemValue.create(key=key, value=secrets.token_urlsafe(32))
    except IntegrityError:  # another process created it first
        return (await models.SystemValue.get(key=key)).value
    return created.value
