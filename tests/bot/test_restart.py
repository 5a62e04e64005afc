"""Nothing is lost across a crash: unfinished turns and unsent replies resume on start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp.test_utils import TestServer

from bot.app import WIDGET_SECRET_KEY, create_app
from bot.types import ChannelKind, InboundMessage, MessageStatus, OutboundReply, SenderKind
from channels.web_visitors import VisitorTokens
from storage import models
from storage.conversations import ConversationStore
from storage.database import Database
from storage.system import shared_secret
from tests.conftest import SettingsFactory
from tests.waiting import eventually
from tests.widget_client import WidgetClient

CRASHED = "crashed-host:1:abc"


async def _leave_work_behind(database_url: str) -> str:
    """What a process that died mid-work leaves: a stored question, a queued agent reply."""
    database = Database(database_url)
    await database.open()
    try:
        visitor_id, token = VisitorTokens(await shared_secret(WIDGET_SECRET_KEY)).issue()
        store = ConversationStore()
        recorded = await store.record_inbound(
            InboundMessage(
                ChannelKind.WEB,
                visitor_id,
                visitor_id,
                "How do I reset my password?",
                source_message_id=f"{visitor_id}:q1",
            ),
            lease_owner=CRASHED,
        )
        await store.queue_replies(
            recorded.conversation_id,
            [
                OutboundReply(
                    "Agent note: we are on it.", sender_kind=SenderKind.AGENT, author_name="Li"
                )
            ],
            lease_owner=CRASHED,
        )
        expired = datetime.now(UTC) - timedelta(seconds=1)
        await models.Message.all().update(lease_until=expired)
        await models.Delivery.all().update(lease_until=expired)
        return token
    finally:
        await database.close()


async def test_a_restart_answers_stored_questions_and_sends_queued_replies_once(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    token = await _leave_work_behind(settings.database_url.get_secret_value())

    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:

        async def all_sent() -> bool:
            rows = await models.Delivery.all().values("status")
            return [row["status"] for row in rows] == [MessageStatus.SENT, MessageStatus.SENT]

        await eventually(all_sent)
        async with aiohttp.ClientSession() as session:
            visitor = await WidgetClient.connect(
                session, str(server.make_url("/widget/ws")), token=token
            )
        texts = [m["text"] for m in visitor.history]
        assert texts[0] == "How do I reset my password?"
        assert "Agent note: we are on it." in texts[1:]
        assert len(texts) == 3
        processed = await models.Message.get(source_message_id__endswith=":q1")
        assert processed.status is MessageStatus.PROCESSED
    finally:
        await server.close()
