"""Staff editing the FAQ from the agents' chat (`/faq add|search|remove`).

Entries added by staff never remove others (unlike a file import, which replaces the
sample FAQ); an entry's id comes from its question's first words unless one is given,
and its language is detected unless named. The server's index is rebuilt at once.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.desk import AgentView, FaqEditor
from bot.errors import CommandError
from bot.language import LanguageDetector
from bot.types import SUPPORTED_LANGUAGES, FaqEntry, FaqMatch, KnowledgeSearch

log = logging.getLogger(__name__)

RELATED_SCORE = 0.2
"""Below this confidence a `/faq search` match is unrelated; a word search is shown."""
FAQ_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,99}")
FAQ_QUESTION_CHARS = 1000
FAQ_ANSWER_CHARS = 4000
FAQ_ID_WORDS_CHARS = 40
FAQ_ID_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class FaqAdded:
    faq_id: str
    language: str
    created: bool
    """False: an existing language version was replaced."""
    detected: bool
    """The language was detected from the text, not given."""


@dataclass(frozen=True, slots=True)
class FaqFound:
    entries: tuple[FaqEntry, ...]
    """Stored versions containing the words, when no FAQ index is at hand."""
    matches: tuple[FaqMatch, ...] = ()
    """What the FAQ index ranks highest for the query, as the bot would see it."""
    best: FaqMatch | None = None
    """The entry the bot would answer the query with; None: it would hand it on."""


class FaqDesk:
    def __init__(
        self,
        editor: FaqEditor,
        *,
        knowledge: KnowledgeSearch | None = None,
        detector: LanguageDetector | None = None,
    ) -> None:
        self._editor = editor
        self._detector = detector
        self.knowledge = knowledge
        """The FAQ index customers are answered from, for `/faq search` (optional)."""
        self.on_changed: Callable[[], Awaitable[object]] | None = None
        """Called after a staff FAQ edit (the server rebuilds its index)."""

    async def add(
        self,
        question: str,
        answer: str,
        *,
        language: str | None,
        faq_id: str | None,
        by: AgentView,
    ) -> FaqAdded:
        """Add an FAQ entry (or one language version of `faq_id`); other entries stay."""
        question, answer = " ".join(question.split()), answer.strip()
        if not question or not answer:
            raise CommandError("An FAQ entry needs a question and an answer.")
        if len(question) > FAQ_QUESTION_CHARS or len(answer) > FAQ_ANSWER_CHARS:
            raise CommandError(
                f"Keep the question under {FAQ_QUESTION_CHARS} and the answer under "
                f"{FAQ_ANSWER_CHARS} characters."
            )
        if language is not None and language not in SUPPORTED_LANGUAGES:
            raise CommandError(f"The FAQ can be in {', '.join(SUPPORTED_LANGUAGES)}.")
        detected = language is None
        language = language or self._detect(f"{question}\n{answer}")
        faq = self._editor
        if faq_id is not None:
            if not FAQ_ID.fullmatch(faq_id):
                raise CommandError("An FAQ id is letters, digits, -, _ or . (up to 100).")
            entry = FaqEntry(faq_id=faq_id, language=language, question=question, answer=answer)
            created = await faq.put_version(entry, source="staff")
        else:
            for candidate in _faq_ids(question):
                entry = FaqEntry(candidate, language, question, answer)
                if await faq.create_version(entry, source="staff"):
                    faq_id, created = candidate, True
                    break
            else:
                raise CommandError("Could not find a free FAQ id; give one: [lang] [id].")
        log.info("FAQ entry %s (%s) saved by agent %d", faq_id, language, by.id)
        await self._faq_changed()
        return FaqAdded(faq_id, language, created, detected)

    async def remove(self, faq_id: str, *, by: AgentView) -> int:
        removed = await self._editor.remove(faq_id)
        if not removed:
            raise CommandError(f"There is no FAQ entry {faq_id}; /faq search finds entries.")
        log.info("FAQ entry %s removed by agent %d (%d versions)", faq_id, by.id, removed)
        await self._faq_changed()
        return removed

    async def _faq_changed(self) -> None:
        """Rebuild this process's FAQ index now (other processes notice within seconds)."""
        if self.on_changed is not None:
            try:
                await self.on_changed()
            except Exception:
                log.exception("FAQ index refresh failed; it is retried on the next poll")

    async def search(self, query: str, *, limit: int) -> FaqFound:
        if self.knowledge is None:
            return FaqFound(tuple(await self._editor.find(query, limit=limit)))
        matches = await self.knowledge.search_off_loop(query, None, limit=limit)
        if not matches or matches[0].score < RELATED_SCORE:
            # Nothing the matcher finds related: show entries containing the words instead.
            return FaqFound(tuple(await self._editor.find(query, limit=limit)))
        answered = matches[0] if matches[0].score >= self.knowledge.threshold else None
        return FaqFound((), tuple(matches), answered)

    def _detect(self, text: str) -> str:
        if self._detector is None:
            self._detector = LanguageDetector(SUPPORTED_LANGUAGES, SUPPORTED_LANGUAGES[0])
        return self._detector.detect(text)


def _faq_ids(question: str) -> list[str]:
    """Ids to try for a new entry: its question's first words, then numbered, then random."""
    plain = unicodedata.normalize("NFKD", question).encode("ascii", "ignore").decode().lower()
    words: list[str] = []
    for word in re.findall(r"[a-z0-9]+", plain):
        if len("-".join([*words, word])) > FAQ_ID_WORDS_CHARS:
            break
        words.append(word)
    base = "-".join(words) or "faq"
    numbered = [f"{base}-{n}" for n in range(2, FAQ_ID_ATTEMPTS)]
    return [base, *numbered, *(f"{base}-{secrets.token_hex(3)}" for _ in range(FAQ_ID_ATTEMPTS))]
