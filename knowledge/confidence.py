"""From raw similarity to a calibrated confidence that one threshold can decline on.

A version's raw similarity alone misleads in two directions: on a large FAQ a message
scores well against several entries at once (ambiguous), on a small FAQ a message that
shares one word with one entry has no rival at all (lucky). The confidence therefore
combines three signals:

* `score`, the winner's raw similarity;
* `lead`, its relative lead over the runner-up entry, `(score - rival) / (score + 0.1)`;
* how much of the message the winning entry explains: when five or more content words
  of the message appear nowhere in the entry, the confidence is multiplied by the share
  of content words it does explain. "My invoice shows a charge from a company called
  Zyxwv Ltd twice" shares "invoice" and "company" with the invoice entry of a 13-entry
  FAQ and nothing with any other, which makes its lead large; but six of its eight
  content words are unexplained, and an answer about downloading invoices would not
  address it. Short questions ("invoice", "pasword reset") are never penalised.

`confidence = logistic(SLOPE_SCORE × score + SLOPE_LEAD × lead + INTERCEPT) × explained`.

Calibration: a logistic regression of "the top answer is right" on score and lead, over
the validation queries of the FAQ pack (CLINC150 val + train OOS and BANKING77-OOS val,
each with full and 5-paraphrase FAQs, xSID en/de/zh) plus the sample-FAQ probe set in
`benchmarks/data/sample_faq_queries.jsonl`; sets weighted equally, in- and out-of-scope
balanced. `benchmarks/faq_report.py --calibration` re-checks it on current code.
"""

from __future__ import annotations

import math
from collections.abc import Container

from knowledge.text import STOP_WORDS, WORD_MARK, is_han, strip_accents, word_grams

LEAD_DAMPING = 0.1
"""Keeps a weak match's lead over an even weaker runner-up from looking decisive."""
SLOPE_SCORE = 4.121
SLOPE_LEAD = 7.627
INTERCEPT = -3.346
DEFAULT_MIN_SCORE = 0.44
"""Where the mean harmonic mean of in-scope accuracy and out-of-scope recall over the
calibration sets peaks (flat from 0.42 to 0.46); mean answer precision there is 0.88."""

UNEXPLAINED_WORDS = 5
"""From this many content words the entry does not contain, the explained share counts."""
HAN_WORD = 0.5
"""A Han character counts as half a word: Chinese words are mostly two characters."""
TRIGRAM_MATCH = 0.5
"""A word whose trigrams are at least this share present counts as explained (typos)."""


def lead(score: float, rival: float) -> float:
    return (score - rival) / (score + LEAD_DAMPING) if score > 0.0 else 0.0


def confidence(score: float, rival: float, explained: float = 1.0) -> float:
    """Map a raw similarity, its lead over the rival entry and the explained share to [0, 1]."""
    z = SLOPE_SCORE * score + SLOPE_LEAD * lead(score, rival) + INTERCEPT
    return explained / (1.0 + math.exp(-z)) if z > -500 else 0.0


def explained_share(tokens: list[str], known: Container[str]) -> float:
    """1.0, or the share of content words found in `known` when too many are missing.

    `known` holds an entry's features (words with WORD_MARK, character n-grams). Digits
    (order numbers, times) and stop words are not content.
    """
    content = missing = 0.0
    for token in tokens:
        if token.isdigit() or token in STOP_WORDS:
            continue
        if len(token) == 1 and is_han(token):
            content += HAN_WORD
            missing += HAN_WORD if token not in known else 0.0
            continue
        bare = strip_accents(token)
        if bare in STOP_WORDS:
            continue
        content += 1.0
        if WORD_MARK + token in known or WORD_MARK + bare in known:
            continue
        grams = word_grams(token)
        if sum(gram in known for gram in grams) < TRIGRAM_MATCH * len(grams):
            missing += 1.0
    if missing < UNEXPLAINED_WORDS:
        return 1.0
    return (content - missing) / content
