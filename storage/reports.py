"""Read-side queries for staff: ticket lists, a ticket's history, a customer's card, figures.

Nothing here writes. Figures are computed from the tickets' own timestamps and history,
so they agree with what `/ticket #N` shows for each ticket.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime

from tortoise.expressions import Case, When
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from bot.desk import (
    AIUsageSummary,
    ChannelLink,
    CustomerProfile,
    DurationSummary,
    HistoryEntry,
    TicketDetails,
    TicketLine,
    TicketPage,
    TicketQuery,
    TicketScope,
    TicketStats,
)
from bot.types import AutomationLevel, ChannelKind, TicketPriority, TicketStatus
from storage import models, sql
from storage.agents import agent_view
from storage.tickets import ACTIVE_STATUSES
from storage.views import customer_view, ticket_view

DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
CONFIRMED_KIND = "confirmed"
"""A history entry recording that the customer said an answer solved their problem."""
REOPENED_KIND = "reopened"

_PRIORITY_FIRST = Case(
    When(priority=TicketPriority.URGENT, then="0"),
    When(priority=TicketPriority.HIGH, then="1"),
    When(priority=TicketPriority.NORMAL, then="2"),
    default="3",
)


USAGE = """
SELECT sum(CASE WHEN answered_by = 'faq' THEN 1 ELSE 0 END) AS faq,
    sum(CASE WHEN answered_by = 'ai' THEN 1 ELSE 0 END) AS ai,
    sum(CASE WHEN ai_model IS NOT NULL THEN 1 ELSE 0 END) AS calls,
    sum(ai_input_tokens) AS tokens_in, sum(ai_output_tokens) AS tokens_out,
    sum(ai_cost) AS cost
FROM message
WHERE {where}
"""


class ReportStore:
    """Implements `bot.desk.ReportStore` on tortoise."""

    async def tickets(self, query: TicketQuery) -> TicketPage:
        """Active tickets, most urgent first, then the longest waiting."""
        rows = models.Ticket.filter(status__in=ACTIVE_STATUSES)
        if query.scope is TicketScope.UNASSIGNED:
            rows = rows.filter(assignee_id__isnull=True)
        elif query.scope is TicketScope.URGENT:
            rows = rows.filter(priority=TicketPriority.URGENT)
        elif query.scope in (TicketScope.MINE, TicketScope.AGENT):
            rows = rows.filter(assignee_id=query.agent_id)
        total = await rows.count()
        found = (
            await rows.annotate(rank=_PRIORITY_FIRST)
            .order_by("rank", "id")
            .limit(query.limit)
            .select_related("customer", "conversation__identity", "assignee")
        )
        return TicketPage(tuple(_line(row) for row in found), total)

    async def workload(self) -> dict[int, int]:
        rows = (
            await models.Ticket.filter(status__in=ACTIVE_STATUSES, assignee_id__isnull=False)
            .annotate(count=Count("id"))
            .group_by("assignee_id")
            .values("assignee_id", "count")
        )
        return {int(row["assignee_id"]): int(row["count"]) for row in rows}

    async def ticket_details(self, ticket_id: int, *, history: int) -> TicketDetails | None:
        row = await models.Ticket.get_or_none(id=ticket_id).select_related(
            "customer", "conversation__identity", "assignee"
        )
        if row is None:
            return None
        events = models.TicketEvent.filter(ticket_id=ticket_id)
        total = await events.count()
        latest = await events.order_by("-id").limit(history).select_related("actor")
        entries = tuple(
            HistoryEntry(
                kind=event.kind,
                at=event.created_at,
                actor=agent_view(event.actor) if event.actor else None,
                detail={str(k): str(v) for k, v in (event.detail or {}).items()},
            )
            for event in reversed(latest)
        )
        return TicketDetails(_line(row), entries, total)

    async def customer_profile(self, customer_id: int, *, tickets: int) -> CustomerProfile:
        customer = await models.Customer.get(id=customer_id)
        identities = await models.ChannelIdentity.filter(customer_id=customer_id).order_by("id")
        all_tickets = models.Ticket.filter(customer_id=customer_id)
        latest = await all_tickets.order_by("-id").limit(tickets)
        rated = await all_tickets.filter(satisfaction__isnull=False).values("satisfaction")
        ratings = [int(row["satisfaction"]) for row in rated]
        return CustomerProfile(
            customer=customer_view(customer),
            first_seen=customer.created_at,
            channels=tuple(
                ChannelLink(ChannelKind(i.channel), i.external_user_id, i.display_name)
                for i in identities
            ),
            tickets=tuple(ticket_view(row) for row in latest),
            ticket_count=await all_tickets.count(),
            ratings=len(ratings),
            satisfaction=statistics.fmean(ratings) if ratings else None,
        )

    async def usage(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        ticket_id: int | None = None,
    ) -> AIUsageSummary:
        conditions: list[str] = []
        params: list[datetime | int] = []
        if since is not None:
            conditions.append("created_at >= ?")
            params.append(since)
        if until is not None:
            conditions.append("created_at < ?")
            params.append(until)
        if ticket_id is not None:
            conditions.append("ticket_id = ?")
            params.append(ticket_id)
        where = " AND ".join(conditions) or "1 = 1"
        row = await sql.fetch_one(USAGE.format(where=where), *params)
        assert row is not None
        return AIUsageSummary(
            faq_answers=int(row["faq"] or 0),
            ai_answers=int(row["ai"] or 0),
            model_calls=int(row["calls"] or 0),
            input_tokens=int(row["tokens_in"] or 0),
            output_tokens=int(row["tokens_out"] or 0),
            cost_usd=float(row["cost"]) if row["cost"] is not None else None,
        )

    async def stats(self, *, since: datetime, until: datetime) -> TicketStats:
        opened = await models.Ticket.filter(opened_at__gte=since, opened_at__lt=until)
        resolved = await models.Ticket.filter(
            resolved_at__gte=since, resolved_at__lt=until, status__in=DONE
        )
        cancelled = await models.Ticket.filter(
            status=TicketStatus.CANCELLED, closed_at__gte=since, closed_at__lt=until
        ).count()
        reopened = await _ticket_ids(
            models.TicketEvent.filter(
                kind=REOPENED_KIND,
                created_at__gte=since,
                created_at__lt=until,
                ticket__automation_level=AutomationLevel.AI_ONLY,
            )
        )
        by_ai = [
            row
            for row in resolved
            if row.automation_level is AutomationLevel.AI_ONLY and row.id not in reopened
        ]
        confirmed_ids = await _ticket_ids(
            models.TicketEvent.filter(kind=CONFIRMED_KIND, ticket_id__in=[row.id for row in by_ai])
        )
        confirmed = sum(row.satisfaction is not None or row.id in confirmed_ids for row in by_ai)
        scores = [row.satisfaction for row in resolved if row.satisfaction is not None]
        return TicketStats(
            since=since,
            until=until,
            opened=len(opened),
            resolved=len(resolved),
            cancelled=cancelled,
            first_response=summarize(
                [
                    (row.first_response_at - row.opened_at).total_seconds()
                    for row in opened
                    if row.first_response_at is not None
                ]
            ),
            unanswered=sum(row.first_response_at is None for row in opened),
            resolution=summarize(
                [
                    (row.resolved_at - row.opened_at).total_seconds()
                    for row in resolved
                    if row.resolved_at is not None
                ]
            ),
            ai_confirmed=confirmed,
            ai_assumed=len(by_ai) - confirmed,
            ai_reopened=len(reopened),
            ratings=len(scores),
            satisfaction=statistics.fmean(scores) if scores else None,
        )


async def _ticket_ids(events: QuerySet[models.TicketEvent]) -> set[int]:
    return {int(row["ticket_id"]) for row in await events.values("ticket_id")}


def summarize(seconds: Sequence[float]) -> DurationSummary:
    """Mean, median and 95th percentile (linear between the closest ranks)."""
    if not seconds:
        return DurationSummary(0)
    ordered = sorted(max(0.0, value) for value in seconds)
    return DurationSummary(
        count=len(ordered),
        mean=statistics.fmean(ordered),
        median=statistics.median(ordered),
        p95=percentile(ordered, 0.95),
    )


def percentile(ordered: Sequence[float], fraction: float) -> float:
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _line(row: models.Ticket) -> TicketLine:
    identity = row.conversation.identity
    return TicketLine(
        ticket=ticket_view(row),
        customer_name=row.customer.name or identity.display_name,
        channel=ChannelKind(identity.channel),
        assignee=agent_view(row.assignee) if row.assignee else None,
    )
