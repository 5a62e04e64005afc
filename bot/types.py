"""Channel-neutral shapes shared by the core, the channels and storage.

Standard library only: channels and storage import this module, never the reverse.
Storage returns the frozen views defined here, so ORM objects never leave `storage/`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "ru", "zh", "fr", "es")


class ChannelKind(StrEnum):
    TELEGRAM = "telegram"
    WECHAT = "wechat"
    WEB = "web"


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    ACTIVITY = "activity"


class SenderKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class MessageStatus(StrEnum):
    """Where a message is in its life: incoming ones get processed, outgoing ones delivered."""

    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    PENDING = "pending"
    SENT = "sent"
    DRAFT = "draft"


class DeliveryTarget(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


class HandoffState(StrEnum):
    BOT = "bot"
    WAITING = "waiting"
    WITH_PERSON = "with_person"


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_active(self) -> bool:
        return self not in (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED)


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return list(TicketPriority).index(self)


class AutomationLevel(StrEnum):
    """How much of a ticket the AI handled: graded, not on/off."""

    HUMAN = "human"
    AI_ASSISTED = "ai_assisted"
    AI_ONLY = "ai_only"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class AttachmentKind(StrEnum):
    IMAGE = "image"
    FILE = "file"
    AUDIO = "audio"
    VIDEO = "video"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACT_CARD = "contact_card"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: AttachmentKind
    reference: str = ""
    """The channel's own handle: a Telegram file_id, a WeChat media id, a URL."""
    name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Kind-specific details, e.g. latitude/longitude for a location."""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One customer message as every channel hands it to the core."""

    channel: ChannelKind
    external_user_id: str
    chat_id: str
    text: str
    source_message_id: str | None
    display_name: str | None = None
    language_hint: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str


@dataclass(frozen=True, slots=True)
class OutboundReply:
    """Something we owe a customer; steps append these, the outbox delivers them."""

    text: str
    sender_kind: SenderKind = SenderKind.BOT
    author_name: str | None = None
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelAddress:
    """Where a channel delivers: how one customer is known there."""

    channel: ChannelKind
    external_user_id: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: int
    name: str | None
    language: str | None
    tags: tuple[str, ...]
    notes: str
    ai_enabled: bool


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    conversation_id: int
    customer_id: int
    status: TicketStatus
    priority: TicketPriority
    category: str | None
    subject: str
    assignee_id: int | None
    automation_level: AutomationLevel
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    satisfaction: int | None

    @property
    def number(self) -> int:
        """The `#N` staff see."""
        return self.id


@dataclass(frozen=True, slots=True)
class ConversationView:
    id: int
    customer: CustomerView
    address: ChannelAddress
    language: str | None
    language_hint: str | None
    ai_enabled: bool
    handoff: HandoffState
    open_ticket: TicketView | None


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    conversation_id: int
    direction: Direction
    sender_kind: SenderKind
    text: str
    private: bool
    status: MessageStatus
    created_at: datetime
    author_name: str | None = None
    language: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordedInbound:
    message_id: int
    conversation_id: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class FaqEntry:
    faq_id: str
    language: str
    question: str
    answer: str
    category: str | None = None
    tags: tuple[str, ...] = ()
    paraphrases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FaqMatch:
    entry: FaqEntry
    score: float


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """Ask for a person: the turn opens (or reuses) the conversation's ticket."""

    reason: str
    priority: TicketPriority = TicketPriority.NORMAL
    category: str | None = None


@dataclass(frozen=True, slots=True)
class TurnResult:
    """Everything one turn decided, written by the store in one transaction."""

    inbound_message_id: int
    conversation_id: int
    replies: Sequence[OutboundReply]
    language: str | None
    ticket: TicketRequest | None
    answered_by_faq: str | None = None
    failed: bool = False


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    id: int
    message_id: int
    address: ChannelAddress
    reply: OutboundReply
    attempts: int


class ConversationStore(Protocol):
    """What the pipeline needs from storage; `storage.conversations` implements it."""

    async def record_inbound(self, message: InboundMessage, *, lease_owner: str) -> RecordedInbound:
        """Store a customer message; a redelivery comes back with `duplicate=True`."""

    async def load_message(self, message_id: int) -> MessageView: ...

    async def load_conversation(self, conversation_id: int) -> ConversationView: ...

    async def history(self, conversation_id: int, *, limit: int) -> list[MessageView]: ...

    async def find_conversation(self, address: ChannelAddress) -> int | None: ...

    async def commit_turn(self, result: TurnResult, *, lease_owner: str) -> list[PendingDelivery]:
        """Write a turn's decisions at once; the deliveries returned are leased to the caller."""

    async def queue_replies(
        self, conversation_id: int, replies: list[OutboundReply], *, lease_owner: str
    ) -> list[PendingDelivery]: ...

    async def claim_unprocessed(self, *, lease_owner: str, limit: int) -> list[int]: ...

    async def processing_attempts(self, message_id: int) -> int: ...

    async def mark_inbound_failed(self, message_id: int) -> None: ...


class DeliveryStore(Protocol):
    """The persistent outbox; `storage.outbox` implements it."""

    async def claim_due(self, *, lease_owner: str, limit: int) -> list[PendingDelivery]: ...

    async def mark_delivered(self, delivery_id: int, *, external_id: str | None) -> None: ...

    async def schedule_retry(self, delivery_id: int, *, at: datetime, error: str) -> None: ...

    async def mark_failed(self, delivery_id: int, *, error: str) -> None: ...


@dataclass(frozen=True, slots=True)
class ExpiringValue:
    value: str
    expires_at: datetime


class ExpiringValueStore(Protocol):
    """A short-lived value all server processes share, such as a platform's API access token.

    Platforms invalidate the previous token on each fetch and cap fetches per day, so one
    process refreshes while the others wait for its result; `storage.shared_values`
    implements this on the database every process already uses.
    """

    async def read(self, key: str) -> ExpiringValue | None:
        """The stored value, expired or not; None if there never was one."""

    async def try_lease(self, key: str, *, owner: str, seconds: float) -> bool:
        """Become the one refresher of `key` for `seconds`; False while another holds it."""

    async def write(self, key: str, value: str, *, expires_at: datetime, owner: str) -> None:
        """Store a fresh value and give up `owner`'s lease."""

    async def release(self, key: str, *, owner: str) -> None:
        """Give up the lease without a new value (the refresh failed)."""


class KnowledgeSearch(Protocol):
    """FAQ matching: the best entry for a question, or None when nothing fits."""

    def best_match(self, question: str, language: str | None) -> FaqMatch | None: ...

    def search(self, question: str, language: str | None, *, limit: int) -> list[FaqMatch]: ...


class ChannelAdapter(Protocol):
    """A channel as the outbox sees it: something that delivers replies."""

    kind: ChannelKind

    async def send(
        self, to: ChannelAddress, reply: OutboundReply, *, message_id: int
    ) -> str | None:
        """Deliver a reply (raise `DeliveryFailed`); returns the channel's message id if any."""


AcceptInbound = Callable[[InboundMessage], Awaitable[RecordedInbound]]
