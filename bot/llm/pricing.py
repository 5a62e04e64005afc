"""Prices per model and the cost estimate of a reply.

Prices are US dollars per million tokens. The built-in table covers the default models and
their close relatives at the providers' published list prices; configured prices
(`HELPLINE_LLM_PRICES`) override or extend it. A dated snapshot id such as
`gpt-4.1-mini-2025-04-14` or `claude-haiku-4-5-20251001` uses the price of its model.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.llm.types import Usage

log = logging.getLogger(__name__)

PER_TOKENS = 1_000_000
_SNAPSHOT_SUFFIX = re.compile(r"[-@](\d{8}|\d{4}-\d{2}-\d{2}|latest)")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Dollars per million tokens; cache reads and writes cost `input` unless set."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def cost(self, usage: Usage) -> float:
        cache_read = self.input if self.cache_read is None else self.cache_read
        cache_write = self.input if self.cache_write is None else self.cache_write
        dollars = (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_read_tokens * cache_read
            + usage.cache_write_tokens * cache_write
        )
        return dollars / PER_TOKENS


BUILTIN_PRICES: Mapping[str, ModelPrice] = {
    # Anthropic: cache writes (5-minute TTL) cost 1.25x input, cache reads 0.1x.
    "claude-sonnet-4-6": ModelPrice(3.0, 15.0, cache_read=0.30, cache_write=3.75),
    "claude-opus-4-6": ModelPrice(5.0, 25.0, cache_read=0.50, cache_write=6.25),
    "claude-haiku-4-5": ModelPrice(1.0, 5.0, cache_read=0.10, cache_write=1.25),
    # OpenAI: caching is automatic; cached input is discounted, writes cost nothing extra.
    "gpt-4.1-mini": ModelPrice(0.40, 1.60, cache_read=0.10),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40, cache_read=0.025),
    "gpt-4.1": ModelPrice(2.0, 8.0, cache_read=0.50),
    "gpt-4o-mini": ModelPrice(0.15, 0.60, cache_read=0.075),
    "gpt-5-mini": ModelPrice(0.25, 2.0, cache_read=0.025),
    "gpt-5": ModelPrice(1.25, 10.0, cache_read=0.125),
}


class PriceBook:
    """Looks up a model's price and estimates costs; unknown models cost None, once logged."""

    def __init__(self, configured: Mapping[str, ModelPrice] | None = None) -> None:
        self._prices = {**BUILTIN_PRICES, **(configured or {})}
        self._unknown_logged: set[str] = set()

    def price(self, model: str) -> ModelPrice | None:
        if model in self._prices:
            return self._prices[model]
        snapshot = _SNAPSHOT_SUFFIX.search(model)
        if snapshot is not None and snapshot.end() == len(model):
            return self._prices.get(model[: snapshot.start()])
        return None

    def cost(self, model: str, usage: Usage) -> float | None:
        price = self.price(model)
        if price is None:
            if model not in self._unknown_logged:
                self._unknown_logged.add(model)
                log.warning("no price known for model %s: set HELPLINE_LLM_PRICES", model)
            return None
        return price.cost(usage)
