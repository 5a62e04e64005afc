"""`/stats`: what happened to tickets today or in the last 7 or 30 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from admin_commands.formatting import duration, moment
from admin_commands.registry import CommandContext, command
from bot.desk import AIUsageSummary, DurationSummary, TicketStats
from bot.types import Role


class Period(StrEnum):
    TODAY = "today"
    WEEK = "7d"
    MONTH = "30d"


def period_start(period: Period, now: datetime) -> datetime:
    """Today starts at midnight UTC; 7d and 30d reach back that long from now."""
    if period is Period.TODAY:
        return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return now - timedelta(days=7 if period is Period.WEEK else 30)


@command("stats", role=Role.AGENT)
async def stats(ctx: CommandContext, period: Period = Period.TODAY) -> str:
    """Ticket figures: opened, resolved, response and resolution times, AI share, ratings.

    Times are mean, median and 95th percentile. First response counts tickets opened in
    the period; resolution, the AI share and satisfaction count tickets resolved or closed
    in it. "AI alone" tickets were resolved without a person: confirmed when the customer
    answered (a rating or a confirmation), assumed otherwise; reopened ones are not counted.
    """
    now = datetime.now(UTC)
    since = period_start(period, now)
    figures = await ctx.service.reports.stats(since=since, until=now)
    usage = await ctx.service.reports.usage(since=since, until=now)
    return render_stats(figures, period) + "\n" + render_usage(usage)


def render_usage(usage: AIUsageSummary) -> str:
    """Automatic answers, and the model's tokens and estimated cost."""
    answers = f"Answered automatically: {usage.faq_answers} from the FAQ, {usage.ai_answers} by AI"
    if not usage.model_calls:
        return answers
    cost = f"${usage.cost_usd:.2f}" if usage.cost_usd is not None else "cost unknown"
    return (
        f"{answers}\nAI: {usage.input_tokens:,} tokens in, {usage.output_tokens:,} out, "
        f"{cost} for {usage.model_calls} messages"
    )


def render_stats(figures: TicketStats, period: Period) -> str:
    label = "today" if period is Period.TODAY else f"last {period.value.removesuffix('d')} days"
    lines = [
        f"Tickets {label} (since {moment(figures.since)}):",
        f"Opened {figures.opened} · resolved {figures.resolved} · cancelled {figures.cancelled}",
        _times(
            "First response",
            figures.first_response,
            f"{figures.first_response.count} answered, {figures.unanswered} waiting",
        ),
        _times("Resolution", figures.resolution, f"{figures.resolution.count} resolved"),
        _ai_share(figures),
    ]
    if figures.satisfaction is None:
        lines.append("Satisfaction: no ratings")
    else:
        lines.append(
            f"Satisfaction: {figures.satisfaction:.2f} average from {figures.ratings} ratings"
        )
    return "\n".join(lines)


def _times(name: str, summary: DurationSummary, counted: str) -> str:
    if summary.count == 0 or summary.mean is None:
        return f"{name}: none ({counted})"
    assert summary.median is not None and summary.p95 is not None
    return (
        f"{name} ({counted}): mean {duration(summary.mean)}, median "
        f"{duration(summary.median)}, p95 {duration(summary.p95)}"
    )


def _ai_share(figures: TicketStats) -> str:
    reopened = f"; {figures.ai_reopened} reopened, not counted" if figures.ai_reopened else ""
    if figures.resolved == 0:
        return f"Resolved by AI alone: none{reopened}"
    share = figures.ai_resolved / figures.resolved
    return (
        f"Resolved by AI alone: {figures.ai_resolved} of {figures.resolved} ({share:.0%}): "
        f"{figures.ai_confirmed} confirmed, {figures.ai_assumed} assumed{reopened}"
    )
