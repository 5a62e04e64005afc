"""Files customers upload through the web widget, kept in the database (see `StoredFile`)."""

from __future__ import annotations

from datetime import timedelta

from tortoise.exceptions import IntegrityError

from bot.errors import ChannelError
from bot.types import Attachment, FileContent
from storage import models, sql
from storage.inbound import now

REFERENCE_PREFIX = "upload:"
"""An attachment's reference to a stored file: `upload:<id>`."""
UNCLAIMED_AFTER = timedelta(days=1)
"""An upload whose message never arrived (the tab closed in between) is removed after this."""

KEY_PREFIX = "web:"
"""A stored file's key is this and the source id of the widget message it came with."""
_UNCLAIMED = f"""
DELETE FROM stored_file
WHERE created_at < ? AND NOT EXISTS (
    SELECT 1 FROM message m
    WHERE m.channel = 'web' AND m.source_message_id = substr(stored_file.key, {len(KEY_PREFIX) + 1})
)
RETURNING id
"""
"""Looks each message up by its unique (channel, source id) key, not by scanning files."""


def reference(file_id: int) -> str:
    return f"{REFERENCE_PREFIX}{file_id}"


def file_id_of(reference_text: str) -> int | None:
    """The stored file an attachment names, None for any other reference."""
    if not reference_text.startswith(REFERENCE_PREFIX):
        return None
    number = reference_text.removeprefix(REFERENCE_PREFIX)
    return int(number) if number.isdigit() and len(number) <= 18 else None


async def store_upload(source_message_id: str, content: FileContent) -> str:
    """Store the file of a widget message once and return its reference; a resent upload
    gets the reference of its first copy."""
    key = KEY_PREFIX + source_message_id
    found = await models.StoredFile.get_or_none(key=key).only("id")
    if found is not None:
        return reference(found.id)
    try:
        created = await models.StoredFile.create(
            key=key,
            name=content.name,
            mime_type=content.mime_type,
            size=len(content.data),
            data=content.data,
        )
    except IntegrityError:  # the same upload, stored by another tab a moment ago
        return reference((await models.StoredFile.get(key=key).only("id")).id)
    return reference(created.id)


async def load_file(file_id: int) -> FileContent | None:
    row = await models.StoredFile.get_or_none(id=file_id)
    if row is None:
        return None
    return FileContent(bytes(row.data), row.mime_type, row.name)


async def forget_unclaimed_files() -> int:
    """Remove uploads no message refers to, once their message can no longer come."""
    [deleted] = await sql.run((_UNCLAIMED, (now() - UNCLAIMED_AFTER,)))
    return len(deleted)


class UploadedFiles:
    """Hands stored uploads to whoever needs the bytes (implements `bot.types.FileSource`):
    the agents' chat, and the customer's own file links."""

    def can_fetch(self, attachment: Attachment) -> bool:
        return file_id_of(attachment.reference) is not None

    async def fetch(self, attachment: Attachment) -> FileContent:
        file_id = file_id_of(attachment.reference)
        content = None if file_id is None else await load_file(file_id)
        if content is None:
            raise ChannelError("web: the uploaded file is no longer stored")
        return content
