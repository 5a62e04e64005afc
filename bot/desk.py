"""Shapes of the agents' desk: what staff see, what they send, and what the core needs for it.

Standard library and `bot.types` only, like `bot/types.py`. The desk is where people work
(today the Telegram agents' chat, a forum topic per customer); the core never sees its SDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.types import (
    AIUsage,
    Attachment,
    ChannelKind,
    Deliveries,
    HandoffState,
    OutboundReply,
    Role,
    StaffEvent,
    StaffPost,
    TicketPriority,
    TicketStatus,
    TicketView,
)


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

    async def post(self, posts: Sequence[StaffPost]) -> str | None:
        """Post in the customer's topic, merged into one message when several; raise
        `DeliveryFailed`. Returns the desk's message id."""


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

    @property
    def changes_assignee(self) -> bool:
        return self.assignee_id is not _KEEP


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
