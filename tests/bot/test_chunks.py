"""Long texts are split where a reader expects a break, within each channel's limit."""

from __future__ import annotations

from bot.chunks import merge_parts, merge_texts, split_text


def test_a_short_text_stays_whole() -> None:
    assert split_text("  Hello there.  ", 100) == ["Hello there."]


def test_paragraphs_then_sentences_then_words() -> None:
    text = "First paragraph is here.\n\nSecond one follows, a bit longer than that."
    assert split_text(text, 40) == [
        "First paragraph is here.",
        "Second one follows, a bit longer than",
        "that.",
    ]
    sentences = "One sentence here. Another sentence there. A third one."
    assert split_text(sentences, 30) == [
        "One sentence here.",
        "Another sentence there.",
        "A third one.",
    ]


def test_an_unbroken_run_is_cut_and_nothing_is_lost() -> None:
    run = "x" * 25
    assert split_text(run, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_byte_limits_for_chinese() -> None:
    text = "你好。" * 400  # 3,600 bytes in UTF-8
    parts = split_text(text, 2048, measure=lambda s: len(s.encode("utf-8")))
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts)
    assert "".join(parts) == text and all(p.endswith("。") for p in parts)


def test_merging_keeps_texts_apart_and_within_the_limit() -> None:
    merged = merge_texts(["a" * 30, "b" * 30, "c" * 30], 70)
    assert merged == ["a" * 30 + "\n\n" + "b" * 30, "c" * 30]


def test_merged_messages_count_the_parts_of_each_text_they_hold() -> None:
    """A sender that stops after any message knows how far every text got."""
    merged = merge_parts([["a" * 30, "b" * 30], [], ["c" * 50], ["d" * 10]], 70)
    assert merged == [
        ("a" * 30 + "\n\n" + "b" * 30, [2, 0, 0, 0]),
        ("c" * 50 + "\n\n" + "d" * 10, [0, 0, 1, 1]),
    ]
    assert merge_parts([[], []], 70) == []
