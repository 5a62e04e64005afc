"""The FAQ store: imports by id and language, and a revision every process can compare."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.types import FaqEntry
from storage.database import Database
from storage.faq import SAMPLE_SOURCE, FaqStore


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[None]:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite://{tmp_path}/faq.sqlite3"
    opened = Database(url)
    await opened.open()
    try:
        yield
    finally:
        await opened.close()


def entry(faq_id: str, language: str = "en", answer: str = "Yes.") -> FaqEntry:
    return FaqEntry(faq_id=faq_id, language=language, question=f"{faq_id}?", answer=answer)


@pytest.mark.usefixtures("database")
async def test_every_change_moves_the_revision_on() -> None:
    store = FaqStore()
    assert await store.revision() == 0
    await store.import_entries([entry("a"), entry("a", "de")], source=SAMPLE_SOURCE)
    assert await store.revision() == 1
    summary = await store.import_entries([entry("b"), entry("b", "fr")])
    assert (summary.created, summary.updated, summary.samples_removed) == (2, 0, 2)
    assert await store.revision() == 2
    again = await store.import_entries([entry("b", answer="No.")])
    assert (again.created, again.updated) == (0, 1)
    assert await store.remove("b") == 2
    assert await store.revision() == 4
    assert await store.remove("missing") == 0
    assert await store.revision() == 4
