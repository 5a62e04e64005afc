"""Tortoise models. They never leave `storage/`: the store turns them into `bot.types` views.

Every default is also a database default (`db_default`), so versioned migrations can add
columns to tables that already hold rows.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from bot.types import (
    AttachmentKind,
    AutomationLevel,
    ChannelKind,
    DeliveryTarget,
    Direction,
    HandoffState,
    MessageStatus,
    Role,
    SenderKind,
    TicketPriority,
    TicketStatus,
)

STATUS_DESCRIPTION = "a bot.types.MessageStatus value"
"""Fixed, so that a new status never makes SQLite rebuild the message tables."""


def _empty_list() -> list[Any]:
    return []


def _empty_dict() -> dict[str, Any]:
    return {}


class Customer(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, null=True)
    language = fields.CharField(max_length=8, null=True)
    tags: fields.Field[list[str]] = fields.JSONField(default=_empty_list)
    notes = fields.TextField(default="", db_default="")
    ai_enabled = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    identities: fields.ReverseRelation[ChannelIdentity]
    conversations: fields.ReverseRelation[Conversation]

    class Meta:
        table = "customer"


class ChannelIdentity(Model):
    """How one customer is known on one channel."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="identities", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(ChannelKind, max_length=16)
    external_user_id = fields.CharField(max_length=128)
    chat_id = fields.CharField(max_length=128)
    display_name = fields.CharField(max_length=200, null=True)
    language_hint = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    conversation: fields.BackwardOneToOneRelation[Conversation]

    class Meta:
        table = "channel_identity"
        unique_together = (("channel", "external_user_id"),)


class Conversation(Model):
    """The running thread with one customer on one channel (one per channel identity)."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="conversations", on_delete=fields.CASCADE
    )
    identity: fields.OneToOneRelation[ChannelIdentity] = fields.OneToOneField(
        "models.ChannelIdentity", related_name="conversation", on_delete=fields.CASCADE
    )
    language = fields.CharField(max_length=8, null=True)
    ai_enabled = fields.BooleanField(default=True, db_default=True)
    handoff = fields.CharEnumField(
        HandoffState, max_length=16, default=HandoffState.BOT, db_default=HandoffState.BOT.value
    )
    rating_ticket_id = fields.IntField(null=True)
    """The closed ticket whose satisfaction question the customer has not answered yet."""
    created_at = fields.DatetimeField(auto_now_add=True)

    messages: fields.ReverseRelation[Message]
    tickets: fields.ReverseRelation[Ticket]

    class Meta:
        table = "conversation"


class Agent(Model):
    id = fields.IntField(primary_key=True)
    display_name = fields.CharField(max_length=200)
    username = fields.CharField(max_length=64, null=True, unique=True)
    role = fields.CharEnumField(
        Role, max_length=16, default=Role.AGENT, db_default=Role.AGENT.value
    )
    online = fields.BooleanField(default=True, db_default=True)
    telegram_user_id = fields.BigIntField(null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "agent"


class Ticket(Model):
    """A case handed to people. Its id is the number (#N) staff see."""

    id = fields.IntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="tickets", on_delete=fields.CASCADE
    )
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="tickets", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(
        TicketStatus, max_length=20, default=TicketStatus.OPEN, db_default=TicketStatus.OPEN.value
    )
    priority = fields.CharEnumField(
        TicketPriority,
        max_length=10,
        default=TicketPriority.NORMAL,
        db_default=TicketPriority.NORMAL.value,
    )
    category = fields.CharField(max_length=64, null=True)
    subject = fields.TextField(default="", db_default="")
    assignee: fields.ForeignKeyNullableRelation[Agent] = fields.ForeignKeyField(
        "models.Agent", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    automation_level = fields.CharEnumField(
        AutomationLevel,
        max_length=16,
        default=AutomationLevel.HUMAN,
        db_default=AutomationLevel.HUMAN.value,
    )
    opened_at = fields.DatetimeField(auto_now_add=True)
    first_response_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    resolution = fields.TextField(null=True)
    satisfaction = fields.SmallIntField(null=True)

    events: fields.ReverseRelation[TicketEvent]

    class Meta:
        table = "ticket"
        # Every customer message looks up its conversation's active ticket.
        indexes = (("status", "priority"), ("conversation_id", "status"))


class TicketEvent(Model):
    """One change to a ticket: who did what, when."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="events", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=32)
    actor: fields.ForeignKeyNullableRelation[Agent] = fields.ForeignKeyField(
        "models.Agent", related_name="ticket_events", null=True, on_delete=fields.SET_NULL
    )
    detail: fields.Field[dict[str, Any]] = fields.JSONField(default=_empty_dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_event"
        indexes = (("ticket_id", "id"),)


class Message(Model):
    id = fields.BigIntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="messages", on_delete=fields.CASCADE
    )
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    channel = fields.CharEnumField(ChannelKind, max_length=16)
    direction = fields.CharEnumField(Direction, max_length=10)
    sender_kind = fields.CharEnumField(SenderKind, max_length=10)
    agent: fields.ForeignKeyNullableRelation[Agent] = fields.ForeignKeyField(
        "models.Agent", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    author_name = fields.CharField(max_length=200, null=True)
    text = fields.TextField()
    private = fields.BooleanField(default=False, db_default=False)
    source_message_id = fields.CharField(max_length=128, null=True)
    status = fields.CharEnumField(MessageStatus, max_length=10, description=STATUS_DESCRIPTION)
    language = fields.CharField(max_length=8, null=True)
    faq_id = fields.CharField(max_length=100, null=True)
    buttons: fields.Field[list[Any]] = fields.JSONField(default=_empty_list)
    event = fields.CharField(max_length=24, null=True)
    """For ACTIVITY messages: which `bot.types.StaffEvent` they record; for customer
    messages: their `bot.types.InboundKind` when it is not a plain message."""
    action = fields.CharField(max_length=64, null=True)
    """The button a customer pressed (its action)."""
    translation = fields.TextField(null=True)
    """A customer message in the agents' language, shown under it in the topic."""
    original_text = fields.TextField(null=True)
    """An agent's reply as they wrote it, when the customer got a translation."""
    answered_by = fields.CharField(max_length=8, null=True)
    """For a customer question: `faq` or `ai` when it was answered automatically."""
    ai_input_tokens = fields.IntField(null=True)
    ai_output_tokens = fields.IntField(null=True)
    ai_cost = fields.FloatField(null=True)
    """Estimated cost in USD of the model calls this message caused."""
    ai_model = fields.CharField(max_length=100, null=True)
    attempts = fields.SmallIntField(default=0, db_default=0)
    lease_owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    attachments: fields.ReverseRelation[Attachment]

    class Meta:
        table = "message"
        unique_together = (("channel", "source_message_id"),)
        indexes = (("conversation_id", "id"), ("status", "lease_until"))


class Attachment(Model):
    id = fields.BigIntField(primary_key=True)
    message: fields.ForeignKeyRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="attachments", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(AttachmentKind, max_length=16)
    reference = fields.TextField(default="", db_default="")
    name = fields.CharField(max_length=255, null=True)
    mime_type = fields.CharField(max_length=100, null=True)
    size = fields.BigIntField(null=True)
    meta: fields.Field[dict[str, Any]] = fields.JSONField(default=_empty_dict)

    class Meta:
        table = "attachment"
        indexes = (("message_id", "id"),)


class StoredFile(Model):
    """A file a customer sent through a channel that keeps no copy of it (the web widget).

    Kept in the database, so that every server process can hand it to agents and back to
    the customer. The key names the message it came with: a resent upload finds its
    first copy instead of storing a second.
    """

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=160, unique=True)
    name = fields.CharField(max_length=255, null=True)
    mime_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    data = fields.BinaryField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stored_file"


class Delivery(Model):
    """The outbox: one row per message owed to one place, sent exactly once."""

    id = fields.BigIntField(primary_key=True)
    message: fields.ForeignKeyRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="deliveries", on_delete=fields.CASCADE
    )
    target = fields.CharEnumField(DeliveryTarget, max_length=10)
    status = fields.CharEnumField(MessageStatus, max_length=10, description=STATUS_DESCRIPTION)
    attempts = fields.SmallIntField(default=0, db_default=0)
    parts_sent = fields.SmallIntField(
        default=0,
        db_default=0,
        description="Parts of a long reply or post already out, so no retry repeats them",
    )
    next_attempt_at = fields.DatetimeField()
    lease_owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)
    external_id = fields.CharField(max_length=128, null=True)
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delivery"
        unique_together = (("message", "target"),)
        indexes = (("status", "next_attempt_at"),)


class StaffTopic(Model):
    """The agents-chat thread of one customer, kept so it survives restarts and stays one."""

    id = fields.IntField(primary_key=True)
    customer: fields.OneToOneRelation[Customer] = fields.OneToOneField(
        "models.Customer", related_name="staff_topic", on_delete=fields.CASCADE
    )
    chat_id = fields.CharField(max_length=64)
    thread_id = fields.CharField(max_length=64, null=True)
    """Empty while the process that claimed the topic is creating it."""
    name = fields.CharField(max_length=128, default="", db_default="")
    closed = fields.BooleanField(default=False, db_default=False)
    claimed_by = fields.CharField(max_length=64, null=True)
    claimed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_topic"
        unique_together = (("chat_id", "thread_id"),)


class InboxKey(Model):
    """Updates handled at most once (staff commands): the key is written before the work."""

    key = fields.CharField(max_length=160, primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "inbox_key"


class FaqRecord(Model):
    """One language version of one FAQ entry, under the id the admin chose (faq_id)."""

    id = fields.IntField(primary_key=True)
    faq_id = fields.CharField(max_length=100)
    language = fields.CharField(max_length=8)
    question = fields.TextField()
    answer = fields.TextField()
    category = fields.CharField(max_length=64, null=True)
    tags: fields.Field[list[str]] = fields.JSONField(default=_empty_list)
    paraphrases: fields.Field[list[str]] = fields.JSONField(default=_empty_list)
    source = fields.CharField(max_length=16, default="import", db_default="import")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "faq_entry"
        unique_together = (("faq_id", "language"),)


class SystemValue(Model):
    """Small shared facts every process must agree on (generated secrets, revisions)."""

    key = fields.CharField(max_length=64, primary_key=True)
    value = fields.TextField()

    class Meta:
        table = "system_value"


class FaqVector(Model):
    """Embedding vectors of one FAQ language version, one per question or paraphrase.

    Computed once when the FAQ is imported. The digest of the texts tells whether they are
    still current, the model name which embedding model made them.
    """

    id = fields.IntField(primary_key=True)
    faq_id = fields.CharField(max_length=100)
    language = fields.CharField(max_length=8)
    model = fields.CharField(max_length=100)
    digest = fields.CharField(max_length=64)
    dimensions = fields.SmallIntField()
    vectors = fields.BinaryField()

    class Meta:
        table = "faq_vector"
        unique_together = (("faq_id", "language", "model"),)


class Document(Model):
    """An imported manual or policy, known by its file name."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255, unique=True)
    title = fields.CharField(max_length=300)
    language = fields.CharField(max_length=8, null=True)
    digest = fields.CharField(max_length=64)
    imported_at = fields.DatetimeField(auto_now=True)

    passages: fields.ReverseRelation[DocumentPassage]

    class Meta:
        table = "document"


class DocumentPassage(Model):
    """One searchable piece of a document, under the headings it sits below."""

    id = fields.IntField(primary_key=True)
    document: fields.ForeignKeyRelation[Document] = fields.ForeignKeyField(
        "models.Document", related_name="passages", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    heading = fields.TextField(default="", db_default="")
    text = fields.TextField()

    class Meta:
        table = "document_passage"
        unique_together = (("document", "position"),)
