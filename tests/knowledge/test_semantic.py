"""Embeddings blended into FAQ matching, stored once, and the local model when installed."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bot.types import FaqEntry
from knowledge.embeddings import embeddings_available, load_local_embedder
from knowledge.faq import FaqMatcher
from knowledge.live import LiveFaq
from knowledge.semantic import (
    SemanticIndex,
    current_vectors,
    embed_entries,
    pack,
    row_texts,
    texts_digest,
)
from storage.database import Database
from storage.faq import FaqStore, StoredVectors

Matrix = NDArray[np.float32]
CONCEPTS = {
    "order": ["order", "bestellung", "订单", "commande"],
    "where": ["where", "wo", "哪里", "où"],
    "password": ["password", "passwort", "密码"],
    "reset": ["reset", "zurücksetzen", "重置", "forgot", "vergessen"],
    "refund": ["refund", "rückerstattung", "退款", "geld"],
}


class ConceptEmbedder:
    """Stands in for a multilingual model: words of one concept share a dimension."""

    name = "test-concepts-v1"

    def __init__(self) -> None:
        self.calls = 0
        self.thread = ""

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        self.calls += len(texts)
        self.thread = threading.current_thread().name
        rows = np.full((len(texts), len(CONCEPTS) + 1), 0.05, dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"\w+", text.casefold())
            joined = text.casefold()
            for column, synonyms in enumerate(CONCEPTS.values()):
                rows[row, column] += sum(
                    w in words or (w in joined and not w.isascii()) for w in synonyms
                )
        rows[rows[:, :-1].max(axis=1) < 1.0, -1] = 1.0  # no concept: points elsewhere
        unit: Matrix = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
        return unit

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self.embed_queries(texts)


ENGLISH_FAQ = [
    FaqEntry(
        "tracking", "en", "Where is my order?", "Tracking answer", paraphrases=("Track my order",)
    ),
    FaqEntry("password", "en", "How do I reset my password?", "Password answer"),
    FaqEntry("refund", "en", "When will I get my refund?", "Refund answer"),
]


def semantic_matcher(embedder: ConceptEmbedder) -> FaqMatcher:
    vectors = dict(
        zip(
            [(e.faq_id, e.language) for e in ENGLISH_FAQ],
            embed_entries(embedder, ENGLISH_FAQ),
            strict=True,
        )
    )
    return FaqMatcher(ENGLISH_FAQ, semantic=SemanticIndex(embedder, vectors))


def test_embeddings_match_across_languages_where_words_cannot() -> None:
    lexical = FaqMatcher(ENGLISH_FAQ)
    assert lexical.best_match("Wo ist meine Bestellung?", "de") is None

    matcher = semantic_matcher(ConceptEmbedder())
    match = matcher.best_match("Wo ist meine Bestellung?", "de")
    assert match is not None
    assert match.entry.faq_id == "tracking"
    assert match.needs_translation  # the LLM layer translates the English answer
    chinese = matcher.best_match("密码忘记了怎么重置", "zh")
    assert chinese is not None
    assert chinese.entry.faq_id == "password"


def test_a_question_in_other_words_is_answered_with_embeddings() -> None:
    question = "where did that order go, placed it monday, still nothing arrived today"
    # Lexically, seven of its content words appear nowhere in the entry: declined.
    assert FaqMatcher(ENGLISH_FAQ).best_match(question, "en") is None
    match = semantic_matcher(ConceptEmbedder()).best_match(question, "en")
    assert match is not None
    assert match.entry.faq_id == "tracking"


def test_unrelated_question_is_still_declined_with_embeddings() -> None:
    matcher = semantic_matcher(ConceptEmbedder())
    assert matcher.best_match("What will the weather be like in Lisbon tomorrow?", "en") is None


def test_a_version_without_vectors_is_an_error() -> None:
    embedder = ConceptEmbedder()
    with pytest.raises(ValueError, match="no vectors for FAQ 'tracking'"):
        FaqMatcher(ENGLISH_FAQ, semantic=SemanticIndex(embedder, {}))


def test_changed_texts_make_stored_vectors_stale() -> None:
    embedder = ConceptEmbedder()
    (matrix,) = embed_entries(embedder, ENGLISH_FAQ[:1])
    record = StoredVectors(
        "tracking", "en", texts_digest(row_texts(ENGLISH_FAQ[0])), matrix.shape[1], pack(matrix)
    )
    found, missing = current_vectors(ENGLISH_FAQ[:1], [record])
    assert missing == [] and np.allclose(found[("tracking", "en")], matrix)
    edited = FaqEntry("tracking", "en", "Where is my parcel?", "Tracking answer")
    assert current_vectors([edited], [record]) == ({}, [edited])


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[None]:
    opened = Database(f"sqlite://{tmp_path}/vectors.sqlite3")
    await opened.open()
    try:
        yield
    finally:
        await opened.close()


@pytest.mark.usefixtures("database")
async def test_vectors_are_stored_once_and_loaded_at_start() -> None:
    store = FaqStore()
    await store.import_entries(ENGLISH_FAQ)
    embedder = ConceptEmbedder()
    live = LiveFaq(
        store.list_entries,
        store.revision,
        min_score=None,
        embedder=embedder,
        load_vectors=store.load_vectors,
    )
    await live.refresh()
    assert not live.semantic  # nothing stored yet: lexical, and nothing computed here
    assert embedder.calls == 0

    entries = await store.list_entries()
    matrices = embed_entries(embedder, entries)
    await store.save_vectors(
        embedder.name,
        [
            StoredVectors(e.faq_id, e.language, texts_digest(row_texts(e)), m.shape[1], pack(m))
            for e, m in zip(entries, matrices, strict=True)
        ],
    )
    computed = embedder.calls
    assert await live.refresh()
    assert live.semantic
    assert embedder.calls == computed  # loaded, not recomputed
    match = live.best_match("Wo ist meine Bestellung?", "de")
    assert match is not None and match.entry.faq_id == "tracking"
    assert await store.load_vectors("another-model") == []
    # The message path embeds the question off the event loop, with the same result.
    calls = embedder.calls
    [found, *_] = await live.search_off_loop("Wo ist meine Bestellung?", "de", limit=3)
    assert (found.entry.faq_id, found.score) == ("tracking", match.score)
    assert embedder.calls == calls + 1
    assert embedder.thread.startswith("faq-embedding")


@pytest.mark.skipif(not embeddings_available(), reason="needs helpline[embeddings]")
def test_the_bundled_model_matches_english_faq_to_german_and_chinese() -> None:
    embedder = load_local_embedder()
    assert embedder is not None
    vectors = embedder.embed_queries(["Where is my order?", "Wo ist meine Bestellung?", "退款"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    faq = [
        FaqEntry("tracking", "en", "Where is my order?", "a", paraphrases=("Track my parcel",)),
        FaqEntry("password", "en", "How do I reset my password?", "b"),
        FaqEntry("refund", "en", "When will I get my refund?", "c"),
    ]
    index = SemanticIndex(
        embedder,
        dict(zip([(e.faq_id, e.language) for e in faq], embed_entries(embedder, faq), strict=True)),
    )
    matcher = FaqMatcher(faq, semantic=index)
    top = matcher.search("Wo ist meine Bestellung?", "de", limit=1)
    assert top[0].entry.faq_id == "tracking"
    assert matcher.search("我忘记密码了", "zh", limit=1)[0].entry.faq_id == "password"
