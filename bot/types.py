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
    """An AI answer waiting for a person to send, edit or discard it."""
    DISCARDED = "discarded"


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


class InboundKind(StrEnum):
    MESSAGE = "message"
    START = "start"
    """The customer opened the chat (Telegram's /start, a WeChat subscribe): greet them."""
    BUTTON = "button"
    """The customer pressed one of our buttons; `action` says which."""


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
    kind: InboundKind = InboundKind.MESSAGE
    action: str | None = None


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
    service_ai_enabled: bool = True
    """The service-wide switch (`/ai off all`)."""
    rating_ticket_id: int | None = None
    """A closed ticket whose satisfaction question is still open."""

    @property
    def ai_allowed(self) -> bool:
        """Automatic answers are on for this conversation, this customer and the service."""
        return self.ai_enabled and self.customer.ai_enabled and self.service_ai_enabled


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
    kind: InboundKind = InboundKind.MESSAGE
    action: str | None = None
    translation: str | None = None


@dataclass(frozen=True, slots=True)
class RecordedInbound:
    message_id: int
    conversation_id: int
    duplicate: bool
    conversation: ConversationView | None = None
    """The conversation as it stood when the message was stored (read in the same trip)."""


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
    """An FAQ entry found for a question; `score` is a calibrated confidence in [0, 1]."""

    entry: FaqEntry
    score: float
    requested_language: str | None = None
    """The customer's language asked for; `entry` is in it whenever the FAQ has that version."""

    @property
    def needs_translation(self) -> bool:
        """The FAQ has no version in the customer's language: `entry` is another one."""
        return (
            self.requested_language is not None and self.entry.language != self.requested_language
        )


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of an imported document, found for a question (grounding for the LLM)."""

    document: str
    """The document's name as imported (its file name), unique in the knowledge base."""
    title: str
    """The document's title and the headings above this passage, joined with " › "."""
    text: str
    score: float
    """Similarity to the question in [0, 1]; only comparable within one search."""
    language: str | None = None
    position: int = 0
    """The passage's number within its document, from 0."""


class StaffPostKind(StrEnum):
    """What a post in a customer's topic stands for."""

    CUSTOMER = "customer"
    """A customer's message, mirrored."""
    BOT = "bot"
    """The bot's own reply to the customer, mirrored and marked as such."""
    AGENT = "agent"
    """An agent's reply sent from somewhere other than the topic (another topic, the CLI)."""
    EVENT = "event"
    """Something that happened: a ticket opened, assigned, closed; a delivery failed."""
    NOTE = "note"
    """A private staff note; the customer never sees it."""
    DRAFT = "draft"
    """An AI answer waiting for a person to send, edit or discard it."""


class StaffEvent(StrEnum):
    """The kind of an ACTIVITY message; the desk renders and acts on each differently."""

    HANDOFF = "handoff"
    """A ticket was opened: post the summary, the recent messages and the ticket buttons."""
    ASSIGNED = "assigned"
    STATUS = "status"
    PRIORITY = "priority"
    CLOSED = "closed"
    """The ticket is done: the desk closes the topic after posting."""
    REOPENED = "reopened"
    AI = "ai"
    EDITED = "edited"
    """A customer edited a message they sent earlier."""
    UNSUBSCRIBED = "unsubscribed"
    """A customer unfollowed (a WeChat official account) or blocked the bot."""
    DELIVERY_FAILED = "delivery_failed"
    RATED = "rated"
    NOTE = "note"
    """A private staff note on the ticket."""
    DRAFT = "draft"
    """An AI draft was sent or discarded."""
    TAGGED = "tagged"
    """A tag was added to or removed from the customer."""


@dataclass(frozen=True, slots=True)
class StaffPost:
    """One item owed to the customer's topic, leased from the outbox like any delivery."""

    delivery_id: int
    message_id: int
    customer_id: int
    conversation_id: int
    customer_name: str | None
    channel: ChannelKind
    kind: StaffPostKind
    text: str
    ticket: TicketView | None = None
    event: StaffEvent | None = None
    author_name: str | None = None
    language: str | None = None
    attachments: tuple[Attachment, ...] = ()
    buttons: tuple[Button, ...] = ()
    recent: tuple[MessageView, ...] = ()
    """For a HANDOFF: the conversation's latest messages, oldest first."""
    attempts: int = 0
    translation: str | None = None
    """A customer's words in the agents' language."""
    parts_sent: int = 0
    """Parts of this post already in the topic (see `SendProgress`)."""

    @property
    def mergeable(self) -> bool:
        """Plain text posts may share one desk message while the group is throttled."""
        return (
            not self.buttons
            and not self.attachments
            and self.event not in (StaffEvent.HANDOFF, StaffEvent.CLOSED)
        )


@dataclass(frozen=True, slots=True)
class Deliveries:
    """What a write left owed: to customers on their channels, and to the staff desk."""

    customer: tuple[PendingDelivery, ...] = ()
    staff: tuple[StaffPost, ...] = ()

    def __add__(self, other: Deliveries) -> Deliveries:
        return Deliveries(self.customer + other.customer, self.staff + other.staff)

    def __bool__(self) -> bool:
        return bool(self.customer or self.staff)


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """Ask for a person: the turn opens (or reuses) the conversation's ticket."""

    reason: str
    priority: TicketPriority = TicketPriority.NORMAL
    category: str | None = None
    subject: str = ""
    """What the customer needs, in their words: the ticket's title for staff."""


@dataclass(frozen=True, slots=True)
class AIUsage:
    """What the language model cost for one message: tokens and the estimated price."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    model: str | None = None

    def __add__(self, other: AIUsage) -> AIUsage:
        cost = (
            None
            if self.cost_usd is None and other.cost_usd is None
            else (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        )
        return AIUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            cost,
            self.model or other.model,
        )


class AnsweredBy(StrEnum):
    FAQ = "faq"
    AI = "ai"


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
    rating: tuple[int, int] | None = None
    """(ticket id, score) when the customer answered the satisfaction question."""
    draft: OutboundReply | None = None
    """An AI answer kept for staff to approve instead of being sent."""
    answered_by: AnsweredBy | None = None
    usage: AIUsage | None = None
    translation: str | None = None
    """The customer's message in the agents' language, for the topic."""


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    id: int
    message_id: int
    address: ChannelAddress
    reply: OutboundReply
    attempts: int
    parts_sent: int = 0
    """Parts of this reply already delivered by an earlier attempt, maybe of another process."""


RecordParts = Callable[[int], Awaitable[None]]


@dataclass(slots=True)
class SendProgress:
    """How many parts of one delivery are out (a long reply's texts, its files).

    A channel skips that many and reports each part it sends; the outbox stores the count,
    so neither a retry nor another process after a crash sends a part twice. The last part
    needs no record of its own: marking the delivery sent follows at once.
    """

    done: int
    record: RecordParts

    async def sent(self, done: int, *, last: bool) -> None:
        self.done = done
        if not last:
            await self.record(done)

    async def restart(self) -> None:
        """Everything goes out again (where it went is gone, such as a deleted topic)."""
        if self.done:
            self.done = 0
            await self.record(0)


class ConversationStore(Protocol):
    """What the pipeline needs from storage; `storage.conversations` implements it."""

    async def record_inbound(self, message: InboundMessage, *, lease_owner: str) -> RecordedInbound:
        """Store a customer message; a redelivery comes back with `duplicate=True`."""

    async def load_message(self, message_id: int) -> MessageView: ...

    async def load_conversation(self, conversation_id: int) -> ConversationView: ...

    async def history(
        self, conversation_id: int, *, limit: int, attachments: bool = False
    ) -> list[MessageView]: ...

    async def find_conversation(self, address: ChannelAddress) -> int | None: ...

    async def record_activity(
        self, message: InboundMessage, event: StaffEvent, *, lease_owner: str
    ) -> Deliveries:
        """Keep something a customer did (an edit, an unfollow); staff following are told."""

    async def commit_turn(
        self,
        result: TurnResult,
        *,
        lease_owner: str,
        current: ConversationView | None = None,
    ) -> Deliveries:
        """Write a turn's decisions at once; the deliveries returned are leased to the caller.

        `current`: the conversation as read moments ago, which spares reading it again."""

    async def queue_replies(
        self, conversation_id: int, replies: list[OutboundReply], *, lease_owner: str
    ) -> Deliveries: ...

    async def claim_unprocessed(self, *, lease_owner: str, limit: int) -> list[int]: ...

    async def processing_attempts(self, message_id: int) -> int: ...

    async def mark_inbound_failed(self, message_id: int) -> None: ...

    async def release(self, *, lease_owner: str) -> None:
        """Free what this process leased, so the next one need not wait for leases to end."""


class DeliveryStore(Protocol):
    """The persistent outbox; `storage.outbox` implements it."""

    async def claim_due(self, *, lease_owner: str, limit: int) -> Deliveries: ...

    async def release(self, *, lease_owner: str) -> None: ...

    async def mark_delivered(self, delivery_id: int, *, external_id: str | None) -> None: ...

    async def record_parts(self, delivery_id: int, parts_sent: int) -> None:
        """Remember how many parts of a delivery are out, before the rest is tried."""

    async def schedule_retry(self, delivery_id: int, *, at: datetime, error: str) -> None: ...

    async def mark_failed(self, delivery_id: int, *, error: str, lease_owner: str) -> Deliveries:
        """Give up on a delivery; returns what staff are owed about it (a notice)."""


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

    @property
    def threshold(self) -> float:
        """The confidence a match needs to be answered from (`best_match` applies it)."""

    def best_match(self, question: str, language: str | None) -> FaqMatch | None: ...

    def search(self, question: str, language: str | None, *, limit: int) -> list[FaqMatch]: ...

    async def search_off_loop(
        self, question: str, language: str | None, *, limit: int
    ) -> list[FaqMatch]:
        """`search` where it cannot stall the event loop (embedding a question takes tens
        of milliseconds); what the message path uses."""


class DocumentSearch(Protocol):
    """Passages of imported documents that may answer a question, best first."""

    def search_passages(self, query: str, language: str | None, *, limit: int) -> list[Passage]: ...


class ChannelAdapter(Protocol):
    """A channel as the outbox sees it: something that delivers replies."""

    kind: ChannelKind

    async def send(
        self, to: ChannelAddress, reply: OutboundReply, *, message_id: int, progress: SendProgress
    ) -> str | None:
        """Deliver a reply (raise `DeliveryFailed`) from part `progress.done` on; returns
        the channel's message id if any."""


@dataclass(frozen=True, slots=True)
class FileContent:
    data: bytes
    mime_type: str
    name: str | None = None


class FileSource(Protocol):
    """A channel that can hand back the bytes of a file it received (an agent's photo)."""

    def can_fetch(self, attachment: Attachment) -> bool: ...

    async def fetch(self, attachment: Attachment) -> FileContent:
        """The file's bytes (raise `ChannelError` when the channel cannot give them)."""


AcceptInbound = Callable[[InboundMessage], Awaitable[RecordedInbound]]
