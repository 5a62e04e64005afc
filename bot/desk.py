"""Shapes of the agents' desk: what staff see, what they send, and what the core needs for it.

Standard library and `bot.types` only, like `bot/types.py`. The desk is where people work
(today the Telegram agents' chat, a forum topic per customer); the core never sees its SDK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.types import (
    AIUsage,
    Attachment,
    Button,
    ChannelKind,
    CustomerView,
    Deliveries,
    FaqEntry,
    HandoffState,
    OutboundReply,
    Role,
    SendProgress,
    StaffEvent,
    StaffPost,
    TicketPriority,
    TicketStatus,
    TicketView,
)

COMMAND_LINE_USERNAME = "command-line"
"""The admin `helpline cmd` acts as; no desk user can have this name (Telegram usernames
have no hyphen)."""


@dataclass(frozen=True, slots=True)
class AgentView:
    id: int
    display_name: str
    username: str | None
    role: Role
    online: bool

    @property
    def mention(self) -> str:
        return f"@{self.username}" if self.username else self.display_name


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    """Who wrote on the desk, as the desk knows them; the core turns it into an Agent."""

    desk_user_id: str
    display_name: str
    username: str | None = None
    admin: bool = False


@dataclass(frozen=True, slots=True)
class StaffMessage:
    """Something a staff member wrote or pressed on the desk."""

    sender: StaffIdentity
    text: str
    topic_id: str | None
    """The customer topic it was written in; None for the desk's general chat."""
    source_message_id: str | None
    attachments: tuple[Attachment, ...] = ()
    from_button: bool = False


@dataclass(frozen=True, slots=True)
class TopicView:
    customer_id: int
    chat_id: str
    thread_id: str | None
    name: str
    closed: bool


class StaffDesk(Protocol):
    """Where staff posts go; `channels.telegram` implements it for the agents' chat."""

    async def pace(self) -> None:
        """Wait until the desk may take one more post (its group rate limit)."""

    async def post(
        self, posts: Sequence[StaffPost], progress: Mapping[int, SendProgress]
    ) -> str | None:
        """Post in the customer's topic, merged into one message when several; raise
        `DeliveryFailed`. `progress` holds each post's (by delivery id): parts already in
        the topic are not posted again. Returns the desk's message id."""


class TopicStore(Protocol):
    """The stored customer ↔ topic mapping, so topics survive restarts and stay one each."""

    async def topic(self, customer_id: int) -> TopicView | None: ...

    async def claim(self, customer_id: int, *, chat_id: str, claimant: str) -> bool:
        """Reserve the right to create this customer's topic; False if someone else holds it."""

    async def created(self, customer_id: int, *, thread_id: str, name: str) -> None: ...

    async def set_state(self, customer_id: int, *, closed: bool, name: str | None = None) -> None:
        """Remember that the topic was closed or reopened (and renamed)."""

    async def release(self, customer_id: int) -> None:
        """Give up a claim whose topic could not be created."""


class DeskReply(Protocol):
    """Answer a staff member where they wrote (a command's result, a refusal)."""

    async def __call__(self, text: str) -> None: ...


ROLE_RANK: dict[Role, int] = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}


def may_act_as(role: Role, required: Role) -> bool:
    return ROLE_RANK[role] >= ROLE_RANK[required]


def topic_name(ticket_number: int | None, customer_name: str | None, channel: ChannelKind) -> str:
    """`#12 · Anna Schmidt · telegram`, within Telegram's 128-character limit."""
    parts = [f"#{ticket_number}" if ticket_number else None, customer_name or "Customer", channel]
    return " · ".join(str(part) for part in parts if part)[:128]


def ticket_buttons(ticket_id: int) -> tuple[Button, ...]:
    """The buttons under a ticket's card in its topic: staff commands, one tap each."""
    return (
        Button("✋ Take", f"/assign me #{ticket_id}"),
        Button("✅ Close", f"/close #{ticket_id}"),
        Button("🤖 AI on", f"/ai on #{ticket_id}"),
        Button("🔇 AI off", f"/ai off #{ticket_id}"),
    )


class AiScope(StrEnum):
    CONVERSATION = "conversation"
    CUSTOMER = "customer"
    ALL = "all"


_KEEP = object()


@dataclass(frozen=True, slots=True)
class TicketChange:
    """One staff action on a ticket, applied by the store in one transaction.

    Fields left as they are default to "no change". `summary` is the staff-facing line
    posted in the topic; `customer_replies` are what the customer is told (already in
    their language).
    """

    event: StaffEvent
    summary: str
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    assignee_id: int | object | None = _KEEP
    resolution: str | None = None
    handoff: HandoffState | None = None
    private: bool = False
    customer_replies: tuple[OutboundReply, ...] = ()
    rating_requested: bool = False
    tag: TagChange | None = None
    """A tag added to or removed from the ticket's customer."""
    history_kind: str | None = None
    """The kind of the history entry when it is not the event's name (e.g. `tagged`)."""

    @property
    def changes_assignee(self) -> bool:
        return self.assignee_id is not _KEEP


@dataclass(frozen=True, slots=True)
class TagChange:
    tag: str
    add: bool


@dataclass(frozen=True, slots=True)
class ChangeResult:
    ticket: TicketView
    deliveries: Deliveries


@dataclass(frozen=True, slots=True)
class DraftOutcome:
    text: str
    ticket: TicketView | None
    deliveries: Deliveries


class StaffStore(Protocol):
    """What staff actions need from storage; `storage.staff` implements it."""

    async def agent_for(self, identity: StaffIdentity) -> AgentView:
        """The Agent behind a desk user, created on first contact; the role follows config."""

    async def find_agent(self, reference: str) -> AgentView | None:
        """By `@username`, agent id or desk user id."""

    async def agents(self) -> list[AgentView]: ...

    async def set_online(self, agent_id: int, online: bool) -> None: ...

    async def customer_for_topic(self, topic_id: str) -> int | None: ...

    async def latest_conversation(self, customer_id: int) -> int | None:
        """The conversation the customer wrote in last: where an agent's reply goes."""

    async def ticket(self, number: int) -> TicketView | None: ...

    async def active_ticket(self, conversation_id: int) -> TicketView | None: ...

    async def latest_ticket(self, conversation_id: int) -> TicketView | None: ...

    async def agent_reply(
        self,
        conversation_id: int,
        *,
        agent: AgentView,
        reply: OutboundReply,
        source_message_id: str | None,
        mirror: bool,
        lease_owner: str,
        original: str | None = None,
        usage: AIUsage | None = None,
    ) -> ChangeResult | None:
        """Store and owe an agent's reply; it opens or takes the ticket. None: a redelivery.

        `original` is what the agent wrote when `reply` is its translation."""

    async def settle_draft(
        self, question_id: int, *, send: bool, by: AgentView, lease_owner: str
    ) -> DraftOutcome | None:
        """Send or discard the AI draft answering customer message `question_id`; None
        when there is no such draft waiting."""

    async def change_ticket(
        self, ticket_id: int, change: TicketChange, *, by: AgentView | None, lease_owner: str
    ) -> ChangeResult: ...

    async def set_ai(
        self, scope: AiScope, *, conversation_id: int | None, enabled: bool
    ) -> None: ...

    async def command_line_agent(self) -> AgentView:
        """The admin that `helpline cmd` acts as, created on first use."""

    @property
    def reports(self) -> ReportStore: ...

    @property
    def faq(self) -> FaqEditor: ...


class DeliverySink(Protocol):
    """Where a staff action's deliveries go once stored (`bot.outbox.Outbox` in a server)."""

    def send_now(self, deliveries: Deliveries) -> None: ...


# Read-side shapes: what staff look up (lists, cards, history, figures) -----------------


class TicketScope(StrEnum):
    """Which tickets `/tickets` lists; every scope covers active tickets only."""

    OPEN = "open"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    URGENT = "urgent"
    AGENT = "agent"
    """Assigned to one agent (`TicketQuery.agent_id`)."""


@dataclass(frozen=True, slots=True)
class TicketQuery:
    scope: TicketScope = TicketScope.OPEN
    agent_id: int | None = None
    limit: int = 30


@dataclass(frozen=True, slots=True)
class TicketLine:
    """One ticket in a list, with the names staff recognise it by."""

    ticket: TicketView
    customer_name: str | None
    channel: ChannelKind
    assignee: AgentView | None


@dataclass(frozen=True, slots=True)
class TicketPage:
    lines: tuple[TicketLine, ...]
    total: int
    """How many tickets match, of which `lines` holds the first `TicketQuery.limit`."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change in a ticket's history: what, who (None: the system), when."""

    kind: str
    at: datetime
    actor: AgentView | None
    detail: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class TicketDetails:
    line: TicketLine
    history: tuple[HistoryEntry, ...]
    """The latest changes, oldest first."""
    history_total: int


@dataclass(frozen=True, slots=True)
class ChannelLink:
    """How a customer is known on one channel."""

    channel: ChannelKind
    external_user_id: str
    display_name: str | None


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    customer: CustomerView
    first_seen: datetime
    channels: tuple[ChannelLink, ...]
    tickets: tuple[TicketView, ...]
    """The latest tickets, newest first."""
    ticket_count: int
    ratings: int
    satisfaction: float | None
    """The mean of the customer's ratings (1-5), None before the first one."""


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """Durations in seconds; p95 interpolates linearly between the closest ranks."""

    count: int
    mean: float | None = None
    median: float | None = None
    p95: float | None = None


@dataclass(frozen=True, slots=True)
class TicketStats:
    """What happened to tickets in [since, until).

    `resolved` counts tickets resolved or closed in the period (cancelled ones apart).
    Among them, `ai_confirmed` and `ai_assumed` were handled by the AI alone: confirmed
    when the customer answered (a rating, or a `confirmed` history entry), assumed
    otherwise. `ai_reopened` AI-alone tickets were reopened in the period; they are not
    counted as AI resolutions.
    """

    since: datetime
    until: datetime
    opened: int
    resolved: int
    cancelled: int
    first_response: DurationSummary
    unanswered: int
    """Tickets opened in the period that no person has answered yet."""
    resolution: DurationSummary
    ai_confirmed: int
    ai_assumed: int
    ai_reopened: int
    ratings: int
    satisfaction: float | None

    @property
    def ai_resolved(self) -> int:
        return self.ai_confirmed + self.ai_assumed


@dataclass(frozen=True, slots=True)
class AIUsageSummary:
    """What answered customers automatically, and what the language model cost."""

    faq_answers: int
    ai_answers: int
    model_calls: int
    """Messages that caused model calls: answers, drafts, handoffs, translations."""
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    """None when no price was known for any model used."""


class ReportStore(Protocol):
    """Read-side queries for staff; `storage.reports` implements it."""

    async def usage(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        ticket_id: int | None = None,
    ) -> AIUsageSummary:
        """Automatic answers and model costs in a period, or of one ticket."""

    async def tickets(self, query: TicketQuery) -> TicketPage: ...

    async def ticket_details(self, ticket_id: int, *, history: int) -> TicketDetails | None: ...

    async def customer_profile(self, customer_id: int, *, tickets: int) -> CustomerProfile: ...

    async def stats(self, *, since: datetime, until: datetime) -> TicketStats: ...

    async def workload(self) -> Mapping[int, int]:
        """Active tickets per assigned agent id."""


class FaqEditor(Protocol):
    """Changing the FAQ from the desk; `storage.faq.FaqStore` implements it.

    Every change bumps the FAQ revision, so each running server rebuilds its index.
    """

    async def create_version(self, entry: FaqEntry, *, source: str) -> bool:
        """Add one language version under a new (faq_id, language); False if it exists."""

    async def put_version(self, entry: FaqEntry, *, source: str) -> bool:
        """Add or replace one language version; True when it is new."""

    async def remove(self, faq_id: str) -> int:
        """Remove every language version of an entry; returns how many were removed."""

    async def find(self, query: str, *, limit: int) -> list[FaqEntry]:
        """Stored versions whose id, question or answer contain every word of `query`, for
        up to `limit` entries."""
