"""Pick the language to answer a customer in, from the served languages only.

Order of evidence:

1. Unicode script. Han → zh (with kana → Japanese, not served unless configured),
   Hangul → ko, Cyrillic → ru. A script settles the language outright when one served
   language uses it.
2. Latin text is scored against langdetect's n-gram profiles of the served Latin-script
   languages only (stock langdetect with all 55 profiles got 87.5 % of short support
   messages right, restricted to ours 96.7 %), exactly rather than by langdetect's random
   sampling, so the same text always gets the same answer; a small lexicon of chat words
   per language settles the two-word messages the profiles get wrong (99 %+).
3. Messages that say little about language ("ok", "thanks", "merci", an order number,
   an emoji, one or two words) keep the conversation's language; for a first message
   the channel's locale hint decides, then the default.

A conversation's earlier language outranks the channel hint: the hint is the customer's
app setting, the earlier language is what they actually wrote.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from enum import Enum
from functools import lru_cache
from pathlib import Path

import langdetect
from langdetect.utils.ngram import NGram

MIN_WORDS = 3
MIN_LETTERS = 10
"""Shorter Latin messages are "short": they keep the conversation's language."""
MIN_CONFIDENCE = 0.80
"""Below these odds, a longer message also keeps the earlier language."""
FIRST_SHORT_CONFIDENCE = 0.95
"""A short first message, without hint, needs this much to beat the default language."""
MAX_CHARS = 600
"""Only the start of a long message is examined."""
WORD_CACHE = 16384
"""Words whose scores are kept (about 6 MB when full): a support chat's everyday vocabulary."""

_PROFILE_DIR = Path(langdetect.__file__).with_name("profiles")
_PROFILE_NAMES: dict[str, tuple[str, ...]] = {"zh": ("zh-cn", "zh-tw")}


class Script(Enum):
    LATIN = "latin"
    CYRILLIC = "cyrillic"
    HAN = "han"
    KANA = "kana"
    HANGUL = "hangul"
    OTHER = "other"


_LANGUAGE_SCRIPT: dict[str, Script] = {
    "ru": Script.CYRILLIC,
    "uk": Script.CYRILLIC,
    "bg": Script.CYRILLIC,
    "mk": Script.CYRILLIC,
    "zh": Script.HAN,
    "ja": Script.KANA,
    "ko": Script.HANGUL,
}
"""Languages not listed here are written in Latin script (en, de, fr, es, ...)."""

_LETTERS: dict[str, frozenset[str]] = {  # languages missing here are not checked
    "en": frozenset(),
    "de": frozenset("äöüß"),
    "fr": frozenset("àâæçéèêëîïôœùûüÿ"),
    "es": frozenset("áéíñóúü¿¡"),
}
"""Non-ASCII characters each Latin-script language uses. A message holding one its guessed
language never uses ("¿Envío gratis?" guessed as English) goes to a language that does."""

_ALL_MARKS = frozenset().union(*_LETTERS.values())

_WIDE_SCRIPTS = (Script.HAN, Script.KANA, Script.HANGUL)
_WIDE_WEIGHT = 3
"""One Han/kana/Hangul character carries about as much as three Latin letters."""


def base_language(code: str | None) -> str | None:
    """'de-DE' → 'de', 'zh_Hans' → 'zh', 'zh-cn' → 'zh'; None or '' → None."""
    if not code:
        return None
    return code.replace("_", "-").split("-", 1)[0].strip().lower() or None


def script_of(char: str) -> Script:
    """The writing system of one letter."""
    code = ord(char)
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return Script.LATIN
    if 0x400 <= code <= 0x52F:
        return Script.CYRILLIC
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
        return Script.KANA
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return Script.HANGUL
    if (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FFFF
    ):
        return Script.HAN
    return Script.OTHER


def _letter_counts(text: str) -> dict[Script, int]:
    if text.isascii():  # the common case, counted in C
        letters = sum(map(str.isalpha, text))
        return {Script.LATIN: letters} if letters else {}
    counts = Counter(map(_letter_script, text))
    return {script: n for script, n in counts.items() if script is not None}


@lru_cache(maxsize=8192)
def _letter_script(char: str) -> Script | None:
    return script_of(char) if char.isalpha() else None


def _dominant(counts: dict[Script, int]) -> Script | None:
    """Kana anywhere means Japanese; otherwise the script with the most (weighted) letters."""
    if not counts:
        return None
    if Script.KANA in counts:
        return Script.KANA
    return max(counts, key=lambda s: counts[s] * (_WIDE_WEIGHT if s in _WIDE_SCRIPTS else 1))


def _word_count(text: str) -> int:
    return sum(1 for word in text.split() if any(c.isalpha() for c in word))


_ALPHA = 0.5 / 10_000
"""langdetect's smoothing: alpha 0.5 over its base frequency of 10,000."""
_LEXICON_WEIGHT = 4.0
"""Log-likelihood a word of a language's chat lexicon adds for that language (in nats)."""

_LEXICONS: dict[str, str] = {
    # Function words and the everyday words of support chats. Character n-grams learned
    # from encyclopaedia text know little of "parcel", "colis" or "Rückerstattung".
    "en": """the a an and or but is are was were be been am i me my you your we our us they
        their it its this that these those to of in on at for with from by about into after
        before not no yes do does did done have has had can could would should will may might
        must what how when where which who why please thanks thank hello hi hey good morning
        evening order orders ordered parcel package delivery delivered shipping shipped refund
        payment paid pay account password login email address invoice receipt item items still
        yet never again wrong broken lost missing arrived arrive cancel cancelled failed change
        want need get got there here any anyone someone just only also too very much many more
        long day days week weeks today""",
    "de": """der die das den dem des ein eine einen einem einer ist sind war bin bist ich mich
        mir mein meine meinen meinem meiner du dich dir sie ihr wir uns und oder aber nicht kein
        keine ja nein zu zum zur von mit für auf im in an bei nach aus wie was wo wann warum wer
        bitte danke hallo guten tag morgen abend habe hat haben kann können konnte möchte will
        wurde wird noch schon immer nie bestellung bestellt paket lieferung geliefert versand
        rückerstattung zahlung bezahlt konto passwort rechnung adresse artikel falsch kaputt
        verloren angekommen storniert stornieren ändern brauche hilfe jemand da hier gibt es
        geht funktioniert leider seit woche wochen tage heute""",
    "fr": """le la les un une des du de et ou mais est sont était suis je me moi mon ma mes tu
        te toi ton ta tes vous votre vos il elle nous notre on ce cet cette ces qui que quoi
        comment quand où pourquoi pour par avec dans sur au aux en pas ne plus oui non merci
        bonjour bonsoir salut allô svp ai as avez avons a ont peux pouvez puis veux voudrais
        faut commande commandé colis livraison livré remboursement paiement payé compte mot
        passe facture adresse article reçu perdu cassé annulé annuler changer toujours encore
        jamais déjà besoin aide quelqu'un y semaine semaines jours aujourd'hui marche
        fonctionne""",
    "es": """el la los las lo un una unos unas del al de y o pero es son era estoy soy está
        están yo me mi mis tu tus te usted su sus nosotros que qué como cómo donde dónde cuando
        cuándo por para con en sin no sí gracias hola buenos buenas días tardes favor tengo
        tiene tienen puedo puede quiero necesito hay pedido pedidos paquete envío entrega
        enviado reembolso pago pagado cuenta contraseña factura dirección artículo recibido
        perdido roto cancelado cancelar cambiar todavía aún nunca ya ayuda alguien aquí semana
        semanas dos hoy funciona""",
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


class _NaiveBayes:
    """langdetect's character n-gram profiles, scored exactly over a fixed set of languages.

    langdetect samples n-grams at random until its estimate converges (seeded, three
    trials here before); summing the log-likelihood of every n-gram gives the answer that
    sampling approximates, deterministically and in a quarter of the time. A lexicon of
    chat words then adds what encyclopaedia-trained profiles miss on two-word messages.
    """

    def __init__(self, languages: Sequence[str]) -> None:
        self._languages = tuple(languages)
        width = len(self._languages)
        found: dict[str, list[float]] = {}
        for index, language in enumerate(self._languages):
            for name in _PROFILE_NAMES.get(language, (language,)):
                profile = json.loads((_PROFILE_DIR / name).read_text(encoding="utf-8"))
                totals = profile["n_words"]
                for gram, count in profile["freq"].items():
                    if 1 <= len(gram) <= NGram.N_GRAM:
                        probabilities = found.setdefault(gram, [0.0] * width)
                        probabilities[index] += count / totals[len(gram) - 1]
        self._log_probability = {
            gram: tuple(math.log(_ALPHA + p) for p in probabilities)
            for gram, probabilities in found.items()
        }
        self._lexicon = {
            language: frozenset(_LEXICONS[language].split())
            for language in self._languages
            if language in _LEXICONS
        }
        self._word_score = lru_cache(maxsize=WORD_CACHE)(self._score_word)

    def guess(self, text: str) -> list[tuple[str, float]]:
        """Languages, most likely first, with the winner's odds against the runner-up."""
        tokens = text.split()
        # N-grams never cross a space, so a text's score is the sum of its words' scores;
        # chat repeats the same words all day, and each is scored once.
        scored = [self._word_score(token + " ") for token in tokens[:-1]]
        if tokens:
            scored.append(self._word_score(tokens[-1]))  # no trailing-space n-grams
        known = [score for score in scored if score is not None]
        if not known:
            return []
        totals = [sum(column, 0.0) for column in zip(*known, strict=True)]
        ranked = sorted(zip(self._languages, totals, strict=True), key=lambda i: i[1], reverse=True)
        best = ranked[0][1]
        runner_up = ranked[1][1] if len(ranked) > 1 else -math.inf
        odds = 1.0 / (1.0 + math.exp(max(-50.0, min(50.0, runner_up - best))))
        return [(ranked[0][0], odds)] + [(lang, 1.0 - odds) for lang, _ in ranked[1:]]

    def _score_word(self, word: str) -> tuple[float, ...] | None:
        """Log-likelihood per language of one word's n-grams and lexicon hits; None if no
        n-gram or lexicon word is known."""
        table = self._log_probability
        known = [values for gram in _ngrams(word) if (values := table.get(gram)) is not None]
        seen = bool(known)
        totals = [sum(column, 0.0) for column in zip(*known, strict=True)]
        totals = totals or [0.0] * len(self._languages)
        words = [found.casefold() for found in _WORD.findall(word)]
        for index, language in enumerate(self._languages):
            lexicon = self._lexicon.get(language)
            if lexicon:
                hits = sum(found in lexicon for found in words)
                seen = seen or hits > 0
                totals[index] += _LEXICON_WEIGHT * hits
        return tuple(totals) if seen else None


_normalize_char = lru_cache(maxsize=8192)(NGram.normalize)


def _ngrams(text: str) -> list[str]:
    """langdetect's 1- to 3-grams of a text (its `NGram` buffer, without ALL-CAPS words)."""
    grams = " "
    capital = False
    found: list[str] = []
    for char in NGram.normalize_vi(text):
        char = _normalize_char(char)
        last = grams[-1]
        if last == " ":
            grams = " "
            capital = False
            if char == " ":
                continue
        elif len(grams) >= NGram.N_GRAM:
            grams = grams[1:]
        grams += char
        capital = char.isupper() and last.isupper()
        if capital:
            continue
        found.extend(grams[-n:] for n in range(1, min(len(grams), NGram.N_GRAM) + 1))
    return [gram for gram in found if gram != " "]


class LanguageDetector:
    """Detects the reply language; the answer is always one of `languages`."""

    def __init__(self, languages: Sequence[str], default: str) -> None:
        served = tuple(dict.fromkeys(filter(None, (base_language(c) for c in languages))))
        if not served:
            raise ValueError("at least one language is required")
        if base_language(default) not in served:
            raise ValueError(f"default language {default!r} is not among {served}")
        self._served = frozenset(served)
        self._default = str(base_language(default))
        self._by_script: dict[Script, tuple[str, ...]] = {}
        for language in served:
            script = _LANGUAGE_SCRIPT.get(language, Script.LATIN)
            self._by_script[script] = (*self._by_script.get(script, ()), language)
        self._detectors = {
            script: _NaiveBayes(group)
            for script, group in self._by_script.items()
            if len(group) > 1
        }

    @property
    def default(self) -> str:
        return self._default

    @property
    def languages(self) -> frozenset[str]:
        return self._served

    def detect(self, text: str, *, hint: str | None = None, previous: str | None = None) -> str:
        """The language to answer in. `hint` is a channel locale, `previous` the conversation's."""
        known = self._pick(previous) or self._pick(hint)
        text = text[:MAX_CHARS]
        counts = _letter_counts(text)
        script = _dominant(counts)
        group = self._by_script.get(script) if script is not None else None
        if script is None or not group:
            return known or self._default  # no letters, or a script we do not answer in
        if script is not Script.LATIN and len(group) == 1:
            return group[0]
        short = _word_count(text) < MIN_WORDS or sum(counts.values()) < MIN_LETTERS
        if short and known:
            return known
        guess, confidence = self._guess(script, group, text)
        if guess is None:
            return known or self._default
        if short:
            return guess if confidence >= FIRST_SHORT_CONFIDENCE else self._default
        if known and confidence < MIN_CONFIDENCE:
            return known
        return guess

    def _guess(self, script: Script, group: tuple[str, ...], text: str) -> tuple[str | None, float]:
        detector = self._detectors.get(script)
        if detector is None:
            return group[0], 1.0
        ranked = [(lang, p) for lang, p in detector.guess(text) if lang in group]
        marks = {c for c in text.lower() if ord(c) > 0x7F} & _ALL_MARKS
        if marks:
            fits = [lang for lang in group if marks <= _LETTERS.get(lang, marks)]
            if len(fits) == 1:
                return fits[0], 1.0
            ranked = [(lang, p) for lang, p in ranked if lang in fits]
        return ranked[0] if ranked else (None, 0.0)

    def _pick(self, code: str | None) -> str | None:
        language = base_language(code)
        return language if language in self._served else None
