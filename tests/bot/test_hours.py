"""Staffed hours: reading them from settings, and telling customers when people are back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.hours import Schedule, ScheduleError

BERLIN = "Europe/Berlin"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_weekday_ranges_and_several_spans_a_day() -> None:
    schedule = Schedule.parse(
        "mon-fri 09:00-12:00, mon-fri 13:00-18:00; sat 10:00-14:00", zone="UTC"
    )
    assert schedule.is_open(at("2026-12-07 09:00"))  # a Monday
    assert not schedule.is_open(at("2026-12-07 12:30"))  # lunch
    assert schedule.is_open(at("2026-12-12 13:59"))  # Saturday
    assert not schedule.is_open(at("2026-12-13 11:00"))  # Sunday


def test_hours_are_in_the_configured_time_zone() -> None:
    schedule = Schedule.parse("mon-fri 09:00-17:00", zone=BERLIN)
    assert not schedule.is_open(at("2026-12-07 07:30"))  # 08:30 in Berlin
    assert schedule.is_open(at("2026-12-07 08:30"))  # 09:30 in Berlin


def test_the_next_opening_skips_nights_weekends_and_holidays() -> None:
    schedule = Schedule.parse("mon-fri 07:00-19:00", zone="UTC", holidays=["2026-12-25"])
    assert schedule.next_opening(at("2026-12-07 20:00")) == at("2026-12-08 07:00")
    assert schedule.next_opening(at("2026-12-11 20:00")) == at("2026-12-14 07:00")
    assert schedule.next_opening(at("2026-12-24 20:00")) == at("2026-12-28 07:00")


@pytest.mark.parametrize(
    ("language", "evening", "friday"),
    [
        ("en", "tomorrow at 07:00", "on Monday at 07:00"),
        ("de", "morgen um 07:00 Uhr", "am Montag um 07:00 Uhr"),
        ("ru", "завтра в 07:00", "в понедельник в 07:00"),
        ("zh", "明天07:00", "周一07:00"),
        ("fr", "demain à 07:00", "lundi à 07:00"),
        ("es", "mañana a las 07:00", "el lunes a las 07:00"),
    ],
)
def test_the_return_is_told_in_the_customers_language(
    language: str, evening: str, friday: str
) -> None:
    schedule = Schedule.parse("mon-fri 07:00-19:00", zone="UTC")
    assert schedule.describe_return(at("2026-12-07 20:00"), language) == evening
    assert schedule.describe_return(at("2026-12-11 20:00"), language) == friday
    assert schedule.describe_return(at("2026-12-08 05:00"), "en") == "today at 07:00"


@pytest.mark.parametrize(
    "text",
    [
        "mon-fri 9-18",
        "moon 09:00-10:00",
        "mon 18:00-09:00",
        "mon 24:00-24:00",
        "",
        "mon 25:00-26:00",
    ],
)
def test_unreadable_hours_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        Schedule.parse(text, zone="UTC")


def test_unknown_zones_and_bad_holidays_are_refused() -> None:
    with pytest.raises(ScheduleError, match="time zone"):
        Schedule.parse("mon 09:00-17:00", zone="Mars/Olympus")
    with pytest.raises(ScheduleError, match="holidays"):
        Schedule.parse("mon 09:00-17:00", zone="UTC", holidays=["25.12.2026"])
