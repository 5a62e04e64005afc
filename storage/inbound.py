"""Storing what customers send: the message, its attachments, and who they are.

The first message of someone new creates the Customer, their ChannelIdentity and the
Conversation together. A redelivered message is recognised by the unique
`(channel, source_message_id)` index, never by a check-then-insert.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.types import (
    Direction,
    HandoffState,
    InboundKind,
    InboundMessage,
    MessageStatus,
    RecordedInbound,
    SenderKind,
)
from storage import models, sql
from storage.writes import INSERT_MESSAGE

LEASE = timedelta(minutes=5)
IDENTITY_CACHE_SIZE = 50_000

FIND_CONVERSATION = (
    "SELECT c.id FROM conversation c JOIN channel_identity i ON i.id = c.identity_id "
    "WHERE i.channel = ? AND i.external_user_id = ?"
)


# SQLite: the three rows in one trip, each insert naming the row the one before made.
# (An ORM transaction would hold SQLite's only connection across five trips through a
# busy event loop, and every other message would wait for it.)
NEW_CUSTOMER = (
    "INSERT INTO customer (name, language, tags, notes, ai_enabled, created_at) "
    "VALUES (?, NULL, '[]', '', 1, ?)"
)
NEW_IDENTITY = (
    "INSERT INTO channel_identity (customer_id, channel, external_user_id, chat_id, "
    "display_name, language_hint, created_at) VALUES (last_insert_rowid(), ?, ?, ?, ?, ?, ?)"
)
NEW_CONVERSATION = (
    "INSERT INTO conversation (customer_id, identity_id, language, ai_enabled, handoff, "
    "rating_ticket_id, created_at) SELECT customer_id, id, NULL, 1, ?, NULL, ? "
    "FROM channel_identity WHERE id = last_insert_rowid() RETURNING id"
)


def now() -> datetime:
    return datetime.now(UTC)


class InboundRecorder:
    def __init__(self) -> None:
        # (channel, external user id) -> conversation id, display name, language hint.
        # Identities are never re-pointed, so every process may cache the mapping.
        self._known: OrderedDict[tuple[str, str], tuple[int, str | None, str | None]] = (
            OrderedDict()
        )

    async def record(
        self,
        message: InboundMessage,
        *,
        lease_owner: str | None,
        status: MessageStatus = MessageStatus.RECEIVED,
        direction: Direction = Direction.INCOMING,
        event: str | None = None,
        state_query: str | None = None,
    ) -> tuple[RecordedInbound, dict[str, Any] | None]:
        """Store a customer message (leased to `lease_owner` for its turn), once.

        `state_query` (one `?`: the conversation id) is run in the same trip to the
        database, and its row returned with the record."""
        conversation_id = await self.conversation_for(message)
        current = now()
        values = (
            conversation_id,
            None,
            message.channel.value,
            direction.value,
            SenderKind.CUSTOMER.value,
            None,
            message.display_name,
            message.text,
            False,
            message.source_message_id,
            status.value,
            None,
            "[]",
            event or (message.kind.value if message.kind is not InboundKind.MESSAGE else None),
            message.action,
            lease_owner,
            current + LEASE if lease_owner else None,
            current,
        )
        statements: list[sql.Statement] = [(INSERT_MESSAGE, values)]
        if state_query is not None:
            statements.append((state_query, (conversation_id,)))
        if message.attachments:
            async with in_transaction():
                outcome = await sql.run(*statements)
                if outcome[0]:
                    await _store_attachments(int(outcome[0][0]["id"]), message)
        else:
            outcome = await sql.run(*statements)
        state = outcome[1][0] if state_query is not None and outcome[1] else None
        if not outcome[0]:
            existing = await sql.fetch_one(
                "SELECT id FROM message WHERE channel = ? AND source_message_id = ?",
                message.channel.value,
                message.source_message_id,
            )
            assert existing is not None
            duplicate = RecordedInbound(int(existing["id"]), conversation_id, duplicate=True)
            return duplicate, state
        return RecordedInbound(int(outcome[0][0]["id"]), conversation_id, duplicate=False), state

    async def conversation_for(self, message: InboundMessage) -> int:
        key = (message.channel.value, message.external_user_id)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            conversation_id, display_name, hint = known
            if (message.display_name, message.language_hint) != (display_name, hint):
                await self._refresh_identity(message, conversation_id)
            return conversation_id
        # On SQLite most senders this process does not know yet are new: try creating
        # them first, in one trip; a sender known from before falls back to the lookup.
        created = await self._create_in_one_trip(message) if sql.on_sqlite() else None
        if created is not None:
            self._remember(message, created)
            return created
        row = await sql.fetch_one(
            FIND_CONVERSATION, message.channel.value, message.external_user_id
        )
        if row is None:
            conversation_id = await self._create_customer(message)
        else:
            conversation_id = int(row["id"])
            await self._refresh_identity(message, conversation_id)
        self._remember(message, conversation_id)
        return conversation_id

    def _remember(self, message: InboundMessage, conversation_id: int) -> None:
        key = (message.channel.value, message.external_user_id)
        self._known[key] = (conversation_id, message.display_name, message.language_hint)
        if len(self._known) > IDENTITY_CACHE_SIZE:
            self._known.popitem(last=False)

    async def _refresh_identity(self, message: InboundMessage, conversation_id: int) -> None:
        changes: dict[str, Any] = {"chat_id": message.chat_id}
        if message.display_name:
            changes["display_name"] = message.display_name
        if message.language_hint:
            changes["language_hint"] = message.language_hint
        await models.ChannelIdentity.filter(
            channel=message.channel, external_user_id=message.external_user_id
        ).update(**changes)
        if message.display_name:
            await sql.execute(
                "UPDATE customer SET name = ? WHERE name IS NULL AND id = "
                "(SELECT customer_id FROM conversation WHERE id = ?)",
                message.display_name,
                conversation_id,
            )
        self._remember(message, conversation_id)

    async def _create_customer(self, message: InboundMessage) -> int:
        try:
            async with in_transaction():
                customer = await models.Customer.create(name=message.display_name)
                identity = await models.ChannelIdentity.create(
                    customer=customer,
                    channel=message.channel,
                    external_user_id=message.external_user_id,
                    chat_id=message.chat_id,
                    display_name=message.display_name,
                    language_hint=message.language_hint,
                )
                conversation = await models.Conversation.create(
                    customer=customer, identity=identity
                )
                return conversation.id
        except IntegrityError:
            # The same new customer wrote twice at once; the other write won.
            identity = await models.ChannelIdentity.get(
                channel=message.channel, external_user_id=message.external_user_id
            ).prefetch_related("conversation")
            return int(identity.conversation.id)

    async def _create_in_one_trip(self, message: InboundMessage) -> int | None:
        """The new conversation's id; None when the sender is known already."""
        created = now()
        identity = (
            message.channel.value,
            message.external_user_id,
            message.chat_id,
            message.display_name,
            message.language_hint,
            created,
        )
        try:
            _, _, [row] = await sql.run(
                (NEW_CUSTOMER, (message.display_name, created)),
                (NEW_IDENTITY, identity),
                (NEW_CONVERSATION, (HandoffState.BOT.value, created)),
            )
        except IntegrityError:
            return None  # known before, or the same new customer wrote twice at once
        return int(row["id"])


async def _store_attachments(message_id: int, message: InboundMessage) -> None:
    await models.Attachment.bulk_create(
        [
            models.Attachment(
                message_id=message_id,
                kind=a.kind,
                reference=a.reference,
                name=a.name,
                mime_type=a.mime_type,
                size=a.size,
                meta=json.loads(json.dumps(dict(a.meta))),
            )
            for a in message.attachments
        ]
    )
