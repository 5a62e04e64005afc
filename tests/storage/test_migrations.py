"""Versioned migrations upgrade an existing database without losing what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError

from storage import models
from storage.database import Database

# Rows as a 0001 database holds them, written with plain SQL because today's models have
# columns that schema does not have yet.
OLD_ROWS = """
INSERT INTO customer (id, name, language, tags, notes, created_at)
    VALUES (1, 'Ada', 'de', '["vip"]', 'prefers email', '2025-01-02 03:04:05+00:00');
INSERT INTO channel_identity (id, customer_id, channel, external_user_id, chat_id, created_at)
    VALUES (1, 1, 'web', 'visitor-1', 'visitor-1', '2025-01-02 03:04:05+00:00');
INSERT INTO conversation (id, customer_id, identity_id, language, ai_enabled, handoff, created_at)
    VALUES (1, 1, 1, 'de', true, 'waiting', '2025-01-02 03:04:05+00:00');
INSERT INTO ticket (id, conversation_id, customer_id, status, priority, subject,
                    automation_level, opened_at)
    VALUES (7, 1, 1, 'open', 'high', 'Paket fehlt', 'human', '2025-01-02 03:05:00+00:00');
INSERT INTO message (id, conversation_id, ticket_id, channel, direction, sender_kind, text,
                     private, source_message_id, status, buttons, attempts, created_at)
    VALUES (1, 1, 7, 'web', 'incoming', 'customer', 'Wo ist mein Paket?', false, 'visitor-1:a',
            'processed', '[]', 0, '2025-01-02 03:04:05+00:00');
"""


async def _upgrade_keeps_data(url: str) -> None:
    database = Database(url)
    await database.open(target="0001_initial")
    try:
        await get_connection("default").execute_script(OLD_ROWS)
        await database.migrate()

        customer = await models.Customer.get(id=1)
        assert (customer.name, customer.tags, customer.notes) == ("Ada", ["vip"], "prefers email")
        assert customer.ai_enabled is True  # new column, filled by its database default
        ticket = await models.Ticket.get(id=7)
        assert (ticket.subject, ticket.priority, ticket.satisfaction) == (
            "Paket fehlt",
            "high",
            None,
        )
        message = await models.Message.get(id=1)
        assert (message.text, message.source_message_id) == ("Wo ist mein Paket?", "visitor-1:a")
        # The table the upgrade added works with the old rows.
        await models.TicketEvent.create(ticket=ticket, kind="note", detail={"text": "ok"})
        assert await models.TicketEvent.filter(ticket_id=7).count() == 1
    finally:
        await database.close()


async def test_sqlite_upgrade_from_first_schema(tmp_path: Path) -> None:
    await _upgrade_keeps_data(f"sqlite://{tmp_path}/old.sqlite3")


async def test_postgres_upgrade_from_first_schema(postgres_url: str) -> None:
    await _upgrade_keeps_data(postgres_url)


async def test_reopening_a_current_database_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/current.sqlite3"
    first = Database(url)
    await first.open()
    await models.Customer.create(name="Bo")
    await first.close()

    second = Database(url)
    await second.open()
    try:
        assert [c.name for c in await models.Customer.all()] == ["Bo"]
    finally:
        await second.close()


async def _unique_keys_hold(url: str) -> None:
    """The keys that make redeliveries harmless survive every migration."""
    database = Database(url)
    await database.open()
    try:
        customer = await models.Customer.create(name="Cy")
        identity = await models.ChannelIdentity.create(
            customer=customer, channel="web", external_user_id="v", chat_id="v"
        )
        conversation = await models.Conversation.create(customer=customer, identity=identity)
        fields: dict[str, Any] = {
            "conversation": conversation,
            "channel": "web",
            "direction": "incoming",
            "sender_kind": "customer",
            "text": "hi",
            "status": "received",
            "source_message_id": "v:1",
        }
        message = await models.Message.create(**fields)
        with pytest.raises(IntegrityError):
            await models.Message.create(**fields)
        await models.Delivery.create(
            message=message, target="customer", status="pending", next_attempt_at=message.created_at
        )
        with pytest.raises(IntegrityError):
            await models.Delivery.create(
                message=message,
                target="customer",
                status="pending",
                next_attempt_at=message.created_at,
            )
    finally:
        await database.close()


async def test_sqlite_keeps_its_unique_keys(tmp_path: Path) -> None:
    await _unique_keys_hold(f"sqlite://{tmp_path}/keys.sqlite3")


async def test_postgres_keeps_its_unique_keys(postgres_url: str) -> None:
    await _unique_keys_hold(postgres_url)
