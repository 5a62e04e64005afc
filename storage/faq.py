"""FAQ entries and the revision counter that tells every process its FAQ index is stale."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from bot.types import FaqEntry
from storage import models, sql
from storage.views import faq_view

REVISION_KEY = "faq_revision"
SAMPLE_SOURCE = "sample"
IMPORT_SOURCE = "import"
STAFF_SOURCE = "staff"


@dataclass(frozen=True, slots=True)
class StoredVectors:
    """Embedding vectors of one FAQ version as stored: float32, little-endian, row by row."""

    faq_id: str
    language: str
    digest: str
    dimensions: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int
    samples_removed: int


class FaqStore:
    async def list_entries(self, *, language: str | None = None) -> list[FaqEntry]:
        query = models.FaqRecord.all().order_by("faq_id", "language")
        if language:
            query = query.filter(language=language)
        return [faq_view(row) for row in await query]

    async def count(self) -> int:
        return await models.FaqRecord.all().count()

    async def revision(self) -> int:
        row = await models.SystemValue.get_or_none(key=REVISION_KEY)
        return int(row.value) if row else 0

    async def import_entries(
        self, entries: Sequence[FaqEntry], *, source: str = IMPORT_SOURCE
    ) -> ImportSummary:
        """Insert or update entries by (id, language), all or nothing.

        An import of the admin's own FAQ removes the shipped sample entries.
        """
        created = updated = removed = 0
        async with in_transaction():
            if source != SAMPLE_SOURCE:
                removed = await models.FaqRecord.filter(source=SAMPLE_SOURCE).delete()
            existing = {
                (row.faq_id, row.language): row
                for row in await models.FaqRecord.filter(
                    faq_id__in=sorted({e.faq_id for e in entries})
                )
            }
            for entry in entries:
                row = existing.get((entry.faq_id, entry.language))
                if row is None:
                    row = models.FaqRecord(faq_id=entry.faq_id, language=entry.language)
                    created += 1
                else:
                    updated += 1
                row.question = entry.question
                row.answer = entry.answer
                row.category = entry.category
                row.tags = list(entry.tags)
                row.paraphrases = list(entry.paraphrases)
                row.source = source
                await row.save()
            await _bump_revision()
        return ImportSummary(created=created, updated=updated, samples_removed=removed)

    async def create_version(self, entry: FaqEntry, *, source: str = STAFF_SOURCE) -> bool:
        """Add one language version under a (faq_id, language) nobody has; False if taken.

        Other entries stay as they are, the shipped sample ones included.
        """
        try:
            async with in_transaction():
                await models.FaqRecord.create(**_fields(entry), source=source)
                await _bump_revision()
        except IntegrityError:
            return False
        return True

    async def put_version(self, entry: FaqEntry, *, source: str = STAFF_SOURCE) -> bool:
        """Add or replace one language version; True when it is new."""
        if await self.create_version(entry, source=source):
            return True
        async with in_transaction():
            await models.FaqRecord.filter(faq_id=entry.faq_id, language=entry.language).update(
                **_fields(entry), source=source
            )
            await _bump_revision()
        return False

    async def find(self, query: str, *, limit: int) -> list[FaqEntry]:
        """Versions whose id, question or answer contain every word of `query`, for up to
        `limit` entries.

        The ones that have the words in their question, then in their id, come first.
        """
        words = query.lower().split()
        if not words:
            return []
        condition = Q()
        for word in words:
            condition &= (
                Q(faq_id__icontains=word) | Q(question__icontains=word) | Q(answer__icontains=word)
            )
        rows = await models.FaqRecord.filter(condition).order_by("faq_id", "language")
        entries = [faq_view(row) for row in rows]

        def rank(entry: FaqEntry) -> tuple[int, int]:
            question, faq_id = entry.question.lower(), entry.faq_id.lower()
            return -sum(word in question for word in words), -sum(word in faq_id for word in words)

        ranked = sorted(entries, key=rank)
        kept = list(dict.fromkeys(entry.faq_id for entry in ranked))[:limit]
        return [entry for entry in ranked if entry.faq_id in kept]

    async def remove(self, faq_id: str) -> int:
        async with in_transaction():
            removed = await models.FaqRecord.filter(faq_id=faq_id).delete()
            await models.FaqVector.filter(faq_id=faq_id).delete()
            if removed:
                await _bump_revision()
        return removed

    async def load_vectors(self, model: str) -> list[StoredVectors]:
        """Every stored vector set of one embedding model."""
        rows = await models.FaqVector.filter(model=model)
        return [
            StoredVectors(row.faq_id, row.language, row.digest, row.dimensions, bytes(row.vectors))
            for row in rows
        ]

    async def save_vectors(self, model: str, vectors: Sequence[StoredVectors]) -> None:
        """Insert or replace vector sets by (id, language, model); bumps the FAQ revision."""
        async with in_transaction():
            for item in vectors:
                await models.FaqVector.filter(
                    faq_id=item.faq_id, language=item.language, model=model
                ).delete()
                await models.FaqVector.create(
                    faq_id=item.faq_id,
                    language=item.language,
                    model=model,
                    digest=item.digest,
                    dimensions=item.dimensions,
                    vectors=item.data,
                )
            if vectors:
                await _bump_revision()


def _fields(entry: FaqEntry) -> dict[str, Any]:
    return {
        "faq_id": entry.faq_id,
        "language": entry.language,
        "question": entry.question,
        "answer": entry.answer,
        "category": entry.category,
        "tags": list(entry.tags),
        "paraphrases": list(entry.paraphrases),
    }


BUMP_REVISION = """
INSERT INTO system_value (key, value) VALUES (?, '1')
ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(system_value.value AS INTEGER) + 1 AS TEXT)
"""


async def _bump_revision() -> None:
    """One statement, so two processes changing the FAQ at once both count."""
    await sql.execute(BUMP_REVISION, REVISION_KEY)
