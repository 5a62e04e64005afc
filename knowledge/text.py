"""Text normalisation and lexical features shared by the FAQ index and its queries.

Two feature families feed the matcher:

* word features: casefolded words minus a short stop list, each with an accent-stripped
  twin; Chinese/Japanese text has no spaces, so adjacent Han characters form bigram "words";
* character trigrams inside space-padded words (" pa", "pas", ..., "rd "), which survive
  typos, inflection and German compounds; Han runs give character unigrams and bigrams.

Both sides of a comparison go through the same functions, so any choice here is symmetric.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

WORD_MARK = "\x01"
"""Prefix that keeps word features apart from character n-grams in one vector space."""

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_ELISION = re.compile(r"\b([a-z]|qu)'(?=\w)")
"""French/Italian elision (l'adresse, qu'il, j'ai): split it; English contractions are joined."""
_TOKEN = re.compile(r"[^\W_]+")

_STOP_WORDS_BY_LANGUAGE: dict[str, str] = {
    # Only the most frequent function words: content words like "not", "kein", "нет" stay,
    # because they often decide between two FAQ entries. Accent-free spellings cover both.
    "en": """a an the is are was were be been am i me my you your to of in on for and or it
        its this that do does did can could would should will what how when where which who
        why please with at by from have has had there im ive id ve ll re""",
    "de": """der die das den dem des ein eine einen einem einer ist sind war bin bist ich mich
        mir du dich dir sie ihr wir uns zu zum zur von mit fur auf im in an und oder es wie
        was wo wann warum bitte habe hat haben kann konnen mein meine meinen meinem meiner""",
    "ru": """и в во на с со к ко по за из у о об а но я мне меня мой моя мое мои ты вы вас вам
        это этот эта как что где когда почему ли бы же пожалуйста""",
    "fr": """le la les l un une des du de d et ou est sont je j me m mon ma mes tu te t vous
        votre vos il elle nous on ce c qu que qui quoi comment quand pourquoi pour par avec
        dans sur au aux en s y a""",
    "es": """el la los las lo un una unos unas del al es son y o yo mi mis tu tus usted su sus
        que como donde cuando por para con en se me te le nos favor""",
    "zh": "的 了 吗 呢 吧 啊 我 你 您 是 在 和",
}
STOP_WORDS: frozenset[str] = frozenset(
    word for words in _STOP_WORDS_BY_LANGUAGE.values() for word in words.split()
)

_NEGATIONS_BY_LANGUAGE: dict[str, str] = {
    # As tokenised: apostrophes are dropped ("can't" -> "cant"), French "n'" is split off.
    "en": """not no never nothing none nobody nowhere neither nor without cannot cant dont
        doesnt didnt isnt arent wasnt werent hasnt havent hadnt wont wouldnt couldnt shouldnt
        aint""",
    "de": "nicht kein keine keinen keinem keiner keines nie niemals nichts ohne",
    "ru": "не нет ни никогда ничего без",
    "fr": "ne n pas jamais rien aucun aucune sans non",
    "es": "no ni nunca nada ningun ninguna ninguno sin tampoco",
    "zh": "不 没 未 无",
}
NEGATIONS: frozenset[str] = frozenset(
    word for words in _NEGATIONS_BY_LANGUAGE.values() for word in words.split()
)


def negated(tokens: list[str]) -> bool:
    """True when the text says "not": "my parcel has not arrived", "Paket nicht angekommen"."""
    return any(token in NEGATIONS or strip_accents(token) in NEGATIONS for token in tokens)


def is_han(char: str) -> bool:
    """Han ideographs and kana: scripts written without spaces between words."""
    code = ord(char)
    return (
        0x3400 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x3040 <= code <= 0x30FF
        or 0x20000 <= code <= 0x2FFFF
    )


@lru_cache(maxsize=65536)
def strip_accents(word: str) -> str:
    """Remove combining marks (é → e, ü → u, ё → е) so unaccented typing still matches."""
    decomposed = unicodedata.normalize("NFD", word)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def normalize(text: str) -> str:
    """Fold width, compatibility forms and case; unify apostrophes; split elisions."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    text = _ELISION.sub(r"\1 ", text)
    return text.replace("'", "")


def tokenize(text: str) -> list[str]:
    """Words of normalised text; every Han character is a token of its own."""
    tokens: list[str] = []
    for word in _TOKEN.findall(normalize(text)):
        if word.isascii() or not any(is_han(c) for c in word):
            tokens.append(word)
            continue
        latin = ""
        for char in word:
            if is_han(char):
                if latin:
                    tokens.append(latin)
                    latin = ""
                tokens.append(char)
            else:
                latin += char
        if latin:
            tokens.append(latin)
    return tokens


def _runs(tokens: list[str]) -> list[tuple[bool, str]]:
    """Group tokens into (is_han_run, text); Han characters separated by spaces are rejoined."""
    runs: list[tuple[bool, str]] = []
    han = ""
    for token in tokens:
        if len(token) == 1 and is_han(token):
            han += token
            continue
        if han:
            runs.append((True, han))
            han = ""
        runs.append((False, token))
    if han:
        runs.append((True, han))
    return runs


def word_features(tokens: list[str]) -> list[str]:
    """Content words (plus accent-stripped twins) and Han bigrams, marked with WORD_MARK."""
    features: list[str] = []
    for is_han_run, run in _runs(tokens):
        if is_han_run:
            kept = "".join(c for c in run if c not in STOP_WORDS) or run
            if len(kept) == 1:
                features.append(WORD_MARK + kept)
            features.extend(WORD_MARK + kept[i : i + 2] for i in range(len(kept) - 1))
            continue
        bare = strip_accents(run)
        if run in STOP_WORDS or bare in STOP_WORDS:
            continue
        features.append(WORD_MARK + run)
        if bare != run:
            features.append(WORD_MARK + bare)
    return features


@lru_cache(maxsize=65536)
def word_grams(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
    bare = strip_accents(word)
    if bare != word:
        padded = f" {bare} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return tuple(grams)


def char_features(tokens: list[str]) -> list[str]:
    """Trigrams of space-padded words (and their accent-stripped form); Han 1- and 2-grams."""
    features: list[str] = []
    for is_han_run, run in _runs(tokens):
        if is_han_run:
            features.extend(run)
            features.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            features.extend(word_grams(run))
    return features
