"""Staffed hours: when people answer, and when they are next back.

Written in settings as `mon-fri 09:00-18:00, sat 10:00-14:00` (days: mon tue wed thu fri sat
sun, single or as a range; several spans per day allowed; a span may end at 24:00), in a
time zone, with holidays as ISO dates. The after-hours responder tells customers when the
team is back, in their language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)
SEARCH_DAYS = 366

WEEKDAY_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "ru": (
        "в понедельник",
        "во вторник",
        "в среду",
        "в четверг",
        "в пятницу",
        "в субботу",
        "в воскресенье",
    ),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "es": (
        "el lunes",
        "el martes",
        "el miércoles",
        "el jueves",
        "el viernes",
        "el sábado",
        "el domingo",
    ),
}
_WHEN: dict[str, tuple[str, str, str]] = {
    # today, tomorrow, another day: {time}, {day}
    "en": ("today at {time}", "tomorrow at {time}", "on {day} at {time}"),
    "de": ("heute um {time} Uhr", "morgen um {time} Uhr", "am {day} um {time} Uhr"),
    "ru": ("сегодня в {time}", "завтра в {time}", "{day} в {time}"),
    "zh": ("今天{time}", "明天{time}", "{day}{time}"),
    "fr": ("aujourd'hui à {time}", "demain à {time}", "{day} à {time}"),
    "es": ("hoy a las {time}", "mañana a las {time}", "{day} a las {time}"),
}


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Span:
    start: time
    end: time | None
    """None: until midnight (24:00)."""

    def contains(self, moment: time) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True, slots=True)
class Schedule:
    spans: tuple[tuple[Span, ...], ...]
    """Per weekday, Monday first."""
    zone: ZoneInfo
    holidays: frozenset[date] = frozenset()

    @classmethod
    def parse(cls, text: str, *, zone: str, holidays: Iterable[str] = ()) -> Schedule:
        try:
            tz = ZoneInfo(zone)
        except (KeyError, ValueError) as exc:
            raise ScheduleError(f"unknown time zone {zone!r}") from exc
        per_day: list[list[Span]] = [[] for _ in DAYS]
        for part in filter(str.strip, re.split(r"[,;]", text.lower())):
            match = _SPAN.match(part)
            if match is None:
                raise ScheduleError(f"cannot read {part.strip()!r}; write e.g. mon-fri 09:00-18:00")
            first = _day(match["first"])
            last = _day(match["last"]) if match["last"] else first
            start, end = _clock(match["start"]), _clock(match["end"])
            if start is None:
                raise ScheduleError(f"{part.strip()!r} cannot start at 24:00")
            if end is not None and end <= start:
                raise ScheduleError(f"{part.strip()!r} ends before it starts")
            days = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
            for day in days:
                per_day[day].append(Span(start, end))
        try:
            off = frozenset(date.fromisoformat(item.strip()) for item in holidays if item.strip())
        except ValueError as exc:
            raise ScheduleError(f"holidays must be dates like 2026-12-25 ({exc})") from exc
        if not any(per_day):
            raise ScheduleError("no staffed hours given")
        spans = tuple(tuple(sorted(day, key=lambda s: s.start)) for day in per_day)
        return cls(spans=spans, zone=tz, holidays=off)

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        return any(span.contains(local.time()) for span in self.spans[local.weekday()])

    def next_opening(self, moment: datetime) -> datetime:
        """When people are next at work: `moment` itself if they are now."""
        local = moment.astimezone(self.zone)
        if self.is_open(local):
            return local
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for span in self.spans[day.weekday()]:
                opening = datetime.combine(day, span.start, tzinfo=self.zone)
                if opening > local:
                    return opening
        raise ScheduleError("no staffed hours within a year")

    def describe_return(self, moment: datetime, language: str | None) -> str:
        """ "tomorrow at 07:00", "am Montag um 09:00 Uhr", … in the customer's language."""
        opening = self.next_opening(moment)
        local = moment.astimezone(self.zone)
        phrases = _WHEN.get(language or "en", _WHEN["en"])
        names = WEEKDAY_NAMES.get(language or "en", WEEKDAY_NAMES["en"])
        days = (opening.date() - local.date()).days
        clock = opening.strftime("%H:%M")
        if days == 0:
            return phrases[0].format(time=clock)
        if days == 1:
            return phrases[1].format(time=clock)
        return phrases[2].format(day=names[opening.weekday()], time=clock)


def _day(name: str) -> int:
    if name not in DAYS:
        raise ScheduleError(f"unknown day {name!r}; use {', '.join(DAYS)}")
    return DAYS.index(name)


def _clock(value: str) -> time | None:
    hours, minutes = (int(part) for part in value.split(":"))
    if (hours, minutes) == (24, 0):
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ScheduleError(f"{value} is not a time of day")
    return time(hours, minutes)
