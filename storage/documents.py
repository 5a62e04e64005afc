"""Imported documents and their passages, with a revision counter like the FAQ's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from storage import models, sql

REVISION_KEY = "documents_revision"


@dataclass(frozen=True, slots=True)
class StoredPassage:
    document: str
    title: str
    language: str | None
    position: int
    heading: str
    text: str


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    name: str
    title: str
    language: str | None
    passages: int


class DocumentStore:
    async def replace(
        self,
        *,
        name: str,
        title: str,
        language: str | None,
        digest: str,
        passages: Sequence[tuple[str, str]],
    ) -> bool:
        """Store a document's passages (heading, text), replacing any earlier import of it.

        Returns False when the same content was imported before and nothing changed.
        """
        async with in_transaction():
            document = await models.Document.get_or_none(name=name)
            unchanged = document is not None and (document.digest, document.title) == (
                digest,
                title,
            )
            if unchanged and document is not None and document.language == language:
                return False
            if document is None:
                document = await models.Document.create(
                    name=name, title=title, language=language, digest=digest
                )
            else:
                document.title, document.language, document.digest = title, language, digest
                await document.save()
                await models.DocumentPassage.filter(document=document).delete()
            await models.DocumentPassage.bulk_create(
                [
                    models.DocumentPassage(
                        document=document, position=position, heading=heading, text=text
                    )
                    for position, (heading, text) in enumerate(passages)
                ]
            )
            await _bump_revision()
        return True

    async def remove(self, name: str) -> bool:
        async with in_transaction():
            removed = await models.Document.filter(name=name).delete()
            if removed:
                await _bump_revision()
        return bool(removed)

    async def list_documents(self) -> list[DocumentSummary]:
        documents = await models.Document.all().order_by("name")
        found = []
        for document in documents:
            count = await models.DocumentPassage.filter(document=document).count()
            found.append(DocumentSummary(document.name, document.title, document.language, count))
        return found

    async def list_passages(self) -> list[StoredPassage]:
        rows = await models.DocumentPassage.all().select_related("document")
        rows.sort(key=lambda row: (row.document.name, row.position))
        return [
            StoredPassage(
                document=row.document.name,
                title=row.document.title,
                language=row.document.language,
                position=row.position,
                heading=row.heading,
                text=row.text,
            )
            for row in rows
        ]

    async def revision(self) -> int:
        row = await models.SystemValue.get_or_none(key=REVISION_KEY)
        return int(row.value) if row else 0


BUMP_REVISION = """
INSERT INTO system_value (key, value) VALUES (?, '1')
ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(system_value.value AS INTEGER) + 1 AS TEXT)
"""


async def _bump_revision() -> None:
    await sql.execute(BUMP_REVISION, REVISION_KEY)
