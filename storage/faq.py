"""FAQ entries and the revision counter that tells every process its FAQ index is stale."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from bot.types import FaqEntry
from storage import models, sql
from storage.views import faq_view

REVISION_KEY = "faq_revision"
SAMPLE_SOURCE = "sample"
IMPORT_SOURCE = "import"


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


BUMP_REVISION = """
INSERT INTO system_value (key, value) VALUES (?, '1')
ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(system_value.value AS INTEGER) + 1 AS TEXT)
"""


async def _bump_revision() -> None:
    """One statement, so two processes changing the FAQ at once both count."""
    await sql.execute(BUMP_REVISION, REVISION_KEY)
