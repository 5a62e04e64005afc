"""`/stats` against tickets with known timings (see `seeds.py`), on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from admin_commands.stats_cmds import Period, period_start
from bot.desk import DurationSummary
from storage.database import Database
from storage.reports import ReportStore, percentile, summarize
from tests.admin_commands.desk import ask
from tests.admin_commands.seeds import seed_tickets
from tests.conftest import TelegramWorld

HOUR = 3600.0


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[None]:
    url = (
        request.getfixturevalue("postgres_url")
        if request.param == "postgres"
        else f"sqlite://{tmp_path}/stats.sqlite3"
    )
    opened = Database(url)
    await opened.open()
    try:
        yield
    finally:
        await opened.close()


@pytest.mark.usefixtures("database")
async def test_figures_of_the_last_7_and_30_days() -> None:
    now = datetime.now(UTC)
    await seed_tickets(now)
    later = now + timedelta(seconds=1)
    week = await ReportStore().stats(since=later - timedelta(days=7), until=later)

    assert (week.opened, week.resolved, week.cancelled) == (8, 7, 1)
    first = week.first_response
    assert (first.count, first.mean, first.median) == (4, 1800.0, 1500.0)
    assert first.p95 == pytest.approx(3330.0)
    assert week.unanswered == 4
    assert week.resolution.count == 7
    assert week.resolution.mean == pytest.approx(240 / 7 * HOUR)
    assert week.resolution.median == pytest.approx(4 * HOUR)
    assert week.resolution.p95 == pytest.approx(153.6 * HOUR)
    assert (week.ai_confirmed, week.ai_assumed, week.ai_reopened) == (2, 1, 1)
    assert week.ratings == 3 and week.satisfaction == pytest.approx(4.0)

    month = await ReportStore().stats(since=later - timedelta(days=30), until=later)
    assert (month.opened, month.resolved) == (10, 8)
    assert month.first_response.count == 6 and month.resolution.count == 8

    nothing = await ReportStore().stats(since=later, until=later + timedelta(days=1))
    assert (nothing.opened, nothing.resolved, nothing.satisfaction) == (0, 0, None)
    assert nothing.first_response == DurationSummary(0)


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([10.0], 0.95) == 10.0
    assert percentile([0.0, 100.0], 0.95) == pytest.approx(95.0)
    summary = summarize([3.0, 1.0, 2.0, -1.0])  # a negative duration (clock skew) counts as 0
    assert (summary.count, summary.mean, summary.median) == (4, 1.5, 1.5)
    assert summary.p95 == pytest.approx(2.85)


def test_today_starts_at_midnight_utc() -> None:
    at = datetime(2025, 3, 9, 17, 45, tzinfo=UTC)
    assert period_start(Period.TODAY, at) == datetime(2025, 3, 9, tzinfo=UTC)
    assert period_start(Period.WEEK, at) == datetime(2025, 3, 2, 17, 45, tzinfo=UTC)
    assert period_start(Period.MONTH, at) == datetime(2025, 2, 7, 17, 45, tzinfo=UTC)


async def test_stats_in_the_agents_chat(telegram: TelegramWorld) -> None:
    await seed_tickets(datetime.now(UTC))
    lines = (await ask(telegram, "/stats 7d")).splitlines()
    assert lines[0].startswith("Tickets last 7 days (since ")
    assert lines[1:] == [
        "Opened 8 · resolved 7 · cancelled 1",
        "First response (4 answered, 4 waiting): mean 30m, median 25m, p95 55m",
        "Resolution (7 resolved): mean 1d 10h, median 4h 00m, p95 6d 9h",
        "Resolved by AI alone: 3 of 7 (43%): 2 confirmed, 1 assumed; 1 reopened, not counted",
        "Satisfaction: 4.00 average from 3 ratings",
        "Answered automatically: 0 from the FAQ, 0 by AI",
    ]
    month = (await ask(telegram, "/stats 30")).splitlines()
    assert month[0].startswith("Tickets last 30 days") and month[1].startswith("Opened 10 ·")
    today = await ask(telegram, "/stats")
    assert today.startswith(f"Tickets today (since {datetime.now(UTC):%Y-%m-%d} 00:00 UTC):")
    assert await ask(telegram, "/stats 1y") == (
        "period must be one of today, 7d, 30d, not '1y'. Usage: /stats [today|7d|30d]"
    )
