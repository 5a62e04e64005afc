"""Language detection on short support messages: accuracy, speed and memory.

Runs `bot.language.LanguageDetector` over `benchmarks/data/short_messages.jsonl`
(2-8 word chat messages in en, de, ru, zh, fr, es; plus a held-out set) with no hint
and no earlier language, then checks that content-free replies keep a conversation's language.

    .venv/bin/python -m benchmarks.language_detection [--rounds 3]

Speed is measured on the first pass over the messages, where every word is scored the
first time it comes (the detector keeps each word's scores), and as the best of several
later rounds (the box is shared); memory is the growth of the
process's resident set (current and peak) from importing langdetect onwards.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from bot.types import SUPPORTED_LANGUAGES

DATA = Path(__file__).with_name("data") / "short_messages.jsonl"
HOLDOUT = DATA.with_name("short_messages_holdout.jsonl")
"""Latin-script messages written after the detector was tuned, as a check of over-fitting."""
NO_FLIP = ("ok", "thanks", "merci", "danke", "12345", "#A-4821", "👍", "🙏🙏", "ok 👍")


def memory_mb() -> tuple[float, float]:
    """Current and peak resident set size of this process, in MB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5, help="passes over the data per round")
    args = parser.parse_args(argv)
    messages = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    rss_before, _ = memory_mb()

    start = time.perf_counter()
    from bot.language import LanguageDetector

    detector = LanguageDetector(SUPPORTED_LANGUAGES, "en")
    detector.detect("Where is my order?")
    load_seconds = time.perf_counter() - start

    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    wrong: list[str] = []
    start = time.perf_counter()
    for message in messages:
        found = detector.detect(message["text"])
        total[message["lang"]] += 1
        right[message["lang"]] += found == message["lang"]
        if found != message["lang"]:
            wrong.append(f"{message['text']!r} {message['lang']} -> {found}")
    first_pass = len(messages) / (time.perf_counter() - start)

    speeds = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _ in range(args.repeat):
            for message in messages:
                detector.detect(message["text"])
        speeds.append(args.repeat * len(messages) / (time.perf_counter() - start))
    rss_after, peak = memory_mb()

    kept = sum(
        detector.detect(text, previous=language) == language
        for text in NO_FLIP
        for language in SUPPORTED_LANGUAGES
    )
    print(f"{'language':<9} {'right':>7} {'accuracy':>8}")
    for language in SUPPORTED_LANGUAGES:
        share = right[language] / total[language]
        print(f"{language:<9} {right[language]:>3}/{total[language]:<3} {share:>8.1%}")
    overall = sum(right.values()) / len(messages)
    print(f"{'overall':<9} {sum(right.values()):>3}/{len(messages):<3} {overall:>8.1%}")
    print(f"\nspeed: {first_pass:,.0f} messages/s on the first pass (each word scored the")
    print(f"first time it comes); {max(speeds):,.0f} messages/s on later passes, words known")
    rounds = f"{args.rounds} rounds of {args.repeat * len(messages)}"
    print(f"(best of {rounds}); load + first call {load_seconds:.3f} s")
    print(f"memory: +{rss_after - rss_before:.1f} MB RSS, peak +{peak - rss_before:.1f} MB")
    print(f"no flip on content-free replies: {kept}/{len(NO_FLIP) * len(SUPPORTED_LANGUAGES)}")
    print("kept the conversation's language ({})".format(", ".join(map(repr, NO_FLIP))))
    holdout = [json.loads(line) for line in HOLDOUT.read_text(encoding="utf-8").splitlines()]
    missed = [m for m in holdout if detector.detect(m["text"]) != m["lang"]]
    print(f"held-out set: {len(holdout) - len(missed)}/{len(holdout)} right", end="")
    print("".join(f"; {m['text']!r} {m['lang']} missed" for m in missed))
    if wrong:
        print("\nmisses (no hint, no earlier language):")
        for line in wrong:
            print("  " + line)
    stock = stock_langdetect_accuracy(messages)
    print("\nissue targets (short-message set):")
    print(f"  {'':<28} {'ours':>10}  {'target':<12} {'':<4} baseline")
    target_line("accuracy", f"{overall:.1%}", ">= 99%", overall >= 0.99, stock)
    target_line(
        "messages per second", f"{first_pass:,.0f}", ">= 4,000", first_pass >= 4000, "first pass"
    )
    grown = max(rss_after, peak) - rss_before
    target_line("memory (peak RSS growth)", f"{grown:.1f} MB", "< 50 MB", grown < 50, "")


def stock_langdetect_accuracy(messages: list[dict[str, str]]) -> str:
    """Stock langdetect (all its languages, seed 0) on the same messages, as the baseline."""
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    right = 0
    for message in messages:
        try:
            found = detect(message["text"]).split("-")[0]
        except LangDetectException:
            continue
        right += found == message["lang"]
    return f"stock langdetect, all languages: {right / len(messages):.1%}"


def target_line(label: str, ours: str, goal: str, met: bool, baseline: str) -> None:
    print(f"  {label:<28} {ours:>10}  {goal:<12} {'met' if met else 'MISS':<4} {baseline}")


if __name__ == "__main__":
    main()
