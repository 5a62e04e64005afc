"""Seeding a fresh database: the shipped six-language sample FAQ.

Used by the server and the CLI alike (both are composition roots), so it may reach into
`knowledge` and `storage` as `bot/app.py` does.
"""

from __future__ import annotations

import logging
from importlib import resources

from tortoise.exceptions import IntegrityError

from knowledge.importer import load_faq_file
from storage.faq import SAMPLE_SOURCE, FaqStore

log = logging.getLogger(__name__)

SAMPLE_FAQ = "sample_faq.json"


async def load_sample_faq(store: FaqStore) -> None:
    """First start with an empty FAQ: load the shipped six-language sample."""
    if await store.count():
        return
    path = resources.files("knowledge").joinpath(SAMPLE_FAQ)
    with resources.as_file(path) as sample:
        entries = load_faq_file(sample)
    try:
        await store.import_entries(entries, source=SAMPLE_SOURCE)
    except IntegrityError:
        log.info("another process loaded the sample FAQ first")
        return
    log.info("loaded the sample FAQ (%d entries); import your own to replace it", len(entries))
