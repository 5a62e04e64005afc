"""Tickets with known timings, written through the models, for checking `/stats`.

Within the last 7 days (`now` is when they are seeded):

| # | opened | first answer | done             | automation | rating | notes                  |
|---|--------|--------------|------------------|------------|--------|------------------------|
| 1 | -3d    | +10m         | closed +2h       | human      | 5      |                        |
| 2 | -2d    | +20m         | resolved +4h     | human      | 3      |                        |
| 3 | -1d    | +30m         | closed +6h       | ai_only    | 4      | confirmed by rating    |
| 4 | -1d    | —            | closed +1h       | ai_only    | —      | assumed                |
| 5 | -2d    | —            | closed +3h       | ai_only    | —      | `confirmed` event      |
| 6 | -2d    | —            | closed +8h       | ai_only    | —      | reopened, closed again |
| 7 | -5h    | +1h          | (in progress)    | human      | —      |                        |
| 8 | -1d    | —            | cancelled +1h    | human      | —      |                        |

Older: #9 opened -20d and closed -19d; #10 opened -10d, resolved -1d (9 days later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.types import AutomationLevel, ChannelKind, TicketStatus
from storage import models

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)


@dataclass(frozen=True)
class Seed:
    opened: timedelta
    first_answer: timedelta | None
    done: timedelta | None
    status: TicketStatus
    automation: AutomationLevel = AutomationLevel.HUMAN
    rating: int | None = None


SEEDS = (
    Seed(-3 * D, 10 * M, 2 * H, TicketStatus.CLOSED, rating=5),
    Seed(-2 * D, 20 * M, 4 * H, TicketStatus.RESOLVED, rating=3),
    Seed(-1 * D, 30 * M, 6 * H, TicketStatus.CLOSED, AutomationLevel.AI_ONLY, rating=4),
    Seed(-1 * D, None, 1 * H, TicketStatus.CLOSED, AutomationLevel.AI_ONLY),
    Seed(-2 * D, None, 3 * H, TicketStatus.CLOSED, AutomationLevel.AI_ONLY),
    Seed(-2 * D, None, 8 * H, TicketStatus.CLOSED, AutomationLevel.AI_ONLY),
    Seed(-5 * H, 1 * H, None, TicketStatus.IN_PROGRESS),
    Seed(-1 * D, None, 1 * H, TicketStatus.CANCELLED),
    Seed(-20 * D, 5 * M, 1 * D, TicketStatus.CLOSED),
    Seed(-10 * D, 1 * H, 9 * D, TicketStatus.RESOLVED),
)
CONFIRMED, REOPENED = 5, 6


async def seed_tickets(now: datetime) -> None:
    customer = await models.Customer.create(name="Seeded customer", language="en")
    identity = await models.ChannelIdentity.create(
        customer=customer, channel=ChannelKind.WEB, external_user_id="seeded", chat_id="seeded"
    )
    conversation = await models.Conversation.create(customer=customer, identity=identity)
    for number, seed in enumerate(SEEDS, start=1):
        opened = now + seed.opened
        done = opened + seed.done if seed.done is not None else None
        ticket = await models.Ticket.create(
            conversation=conversation,
            customer=customer,
            status=seed.status,
            automation_level=seed.automation,
            subject=f"seeded ticket {number}",
            opened_at=opened,
            first_response_at=opened + seed.first_answer if seed.first_answer else None,
            resolved_at=done,
            closed_at=done if seed.status is not TicketStatus.RESOLVED else None,
            satisfaction=seed.rating,
        )
        assert ticket.id == number
        await models.TicketEvent.create(ticket=ticket, kind="opened", created_at=opened)
        if number == CONFIRMED:
            await models.TicketEvent.create(ticket=ticket, kind="confirmed", created_at=opened + H)
        if number == REOPENED:
            for offset, kind in ((2 * H, "closed"), (3 * H, "reopened"), (8 * H, "closed")):
                at = opened + offset
                await models.TicketEvent.create(ticket=ticket, kind=kind, created_at=at)
