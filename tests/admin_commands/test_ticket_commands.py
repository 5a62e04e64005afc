"""Commands that change a ticket, typed in the agents' chat: effects, history, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.texts import Text, render
from bot.types import HandoffState, TicketPriority, TicketStatus
from storage import models
from tests.admin_commands.desk import ADMIN_NAME, AGENT_NAME, ask, hand_off, posted_in_topic
from tests.conftest import SettingsFactory, TelegramWorld, _serve, telegram_overrides
from tests.fakes.telegram_api import running
from tests.telegram_updates import AGENTS_CHAT, button_press, private_message
from tests.widget_client import WidgetClient

CUSTOMER = 801
SILENCE = 0.6


async def history(ticket_id: int) -> list[models.TicketEvent]:
    return (
        await models.TicketEvent.filter(ticket_id=ticket_id)
        .order_by("id")
        .prefetch_related("actor")
    )


def recent(event: models.TicketEvent) -> bool:
    return datetime.now(UTC) - event.created_at < timedelta(minutes=1)


async def test_assign_and_unassign_in_the_topic_and_by_number(telegram: TelegramWorld) -> None:
    thread = await hand_off(telegram, CUSTOMER)

    answer = await ask(telegram, "/assign me", thread=thread)
    assert answer == "#1 (in_progress, normal) is now assigned to @li_support."
    await telegram.fake.wait_for(
        lambda f: render(Text.AGENT_ASSIGNED, "en", agent=AGENT_NAME) in f.texts(CUSTOMER)
    )
    await posted_in_topic(telegram, thread, "#1 assigned to themselves by @li_support")
    ticket = await models.Ticket.get(id=1).prefetch_related("assignee")
    assert ticket.assignee is not None and ticket.assignee.username == "li_support"
    assert ticket.status is TicketStatus.IN_PROGRESS

    # The admin has written once, so they are known; then hand the ticket over from the
    # general chat, naming it.
    assert "online" in await ask(telegram, "/online", admin=True)
    answer = await ask(telegram, "/assign @max_admin #1")
    assert answer == "#1 (in_progress, normal) is now assigned to @max_admin."
    await telegram.fake.wait_for(
        lambda f: render(Text.AGENT_ASSIGNED, "en", agent=ADMIN_NAME) in f.texts(CUSTOMER)
    )
    assert await ask(telegram, "/assign @nobody #1") == "No agent @nobody; /agents lists them."

    assert await ask(telegram, "/unassign #1") == "#1 (open, normal) has no assignee now."
    assert await ask(telegram, "/unassign", thread=thread) == "#1 has no assignee."
    conversation = await models.Conversation.get(id=1)
    assert conversation.handoff is HandoffState.WAITING

    events = await history(1)
    assigned = [e for e in events if e.kind == "assigned"]
    assert [e.actor.username for e in assigned if e.actor] == ["li_support"] * 3
    assert [e.detail["assignee"] for e in assigned][-1] == "None"
    assert all(recent(e) for e in assigned)


@pytest.fixture
async def quiet_assign(make_settings: SettingsFactory) -> AsyncIterator[TelegramWorld]:
    """Helpline set not to tell customers who took their ticket."""
    async with running() as (fake, api_url), aiohttp.ClientSession() as session:
        settings = make_settings(**telegram_overrides(api_url, notify_customer_on_assign=False))
        async with _serve(settings) as server:
            yield TelegramWorld(server, fake, session)


async def test_assign_tells_the_customer_only_when_configured(
    quiet_assign: TelegramWorld,
) -> None:
    thread = await hand_off(quiet_assign, CUSTOMER)
    assert "assigned to @li_support" in await ask(quiet_assign, "/take me", thread=thread)
    await posted_in_topic(quiet_assign, thread, "assigned to themselves")
    await asyncio.sleep(SILENCE)
    assert quiet_assign.fake.texts(CUSTOMER) == [render(Text.HANDOFF_NOTICE, "en")]


async def test_close_asks_for_a_rating_and_reopen_and_cancel_follow(
    telegram: TelegramWorld,
) -> None:
    thread = await hand_off(telegram, CUSTOMER)
    assert (
        await ask(telegram, "/close refund issued", thread=thread) == "#1 (closed, normal) closed."
    )
    await telegram.fake.wait_for(lambda f: f.methods("closeForumTopic"))
    await telegram.fake.wait_for(lambda f: render(Text.RATING_QUESTION, "en") in f.texts(CUSTOMER))
    assert render(Text.TICKET_CLOSED, "en") in telegram.fake.texts(CUSTOMER)
    question = telegram.fake.sent(CUSTOMER)[-1]
    assert [b["callback_data"] for b in question.buttons] == [f"rate:1:{n}" for n in range(1, 6)]
    ticket = await models.Ticket.get(id=1)
    assert (ticket.status, ticket.resolution) == (TicketStatus.CLOSED, "refund issued")
    assert ticket.closed_at is not None and ticket.resolved_at is not None

    await telegram.post(button_press("rate:1:4", from_id=CUSTOMER, chat_id=CUSTOMER))
    await telegram.fake.wait_for(lambda f: render(Text.RATING_THANKS, "en") in f.texts(CUSTOMER))
    assert (await models.Ticket.get(id=1)).satisfaction == 4

    assert await ask(telegram, "/close", thread=thread) == "#1 is already closed."
    assert await ask(telegram, "/reopen #1") == "#1 (open, normal) reopened."
    await telegram.fake.wait_for(lambda f: f.methods("reopenForumTopic"))
    assert await ask(telegram, "/cancel #1") == "#1 (cancelled, normal) cancelled."
    await asyncio.sleep(SILENCE)
    questions = [
        t for t in telegram.fake.texts(CUSTOMER) if t == render(Text.RATING_QUESTION, "en")
    ]
    assert len(questions) == 1  # a cancelled ticket asks for no rating

    kinds = [(e.kind, e.actor.username if e.actor else None) for e in await history(1)]
    assert ("closed", "li_support") in kinds and ("reopened", "li_support") in kinds
    assert ("rated", None) in kinds
    closed = next(e for e in await history(1) if e.kind == "closed")
    assert closed.detail["resolution"] == "refund issued"
    assert closed.detail["status"] == "closed"


async def test_status_and_priority_by_topic_or_number(telegram: TelegramWorld) -> None:
    thread = await hand_off(telegram, CUSTOMER)
    answer = await ask(telegram, "/status waiting_customer", thread=thread)
    assert answer == "#1 (waiting_customer, normal) updated."
    assert await ask(telegram, "/status wait", thread=thread) == "#1 is already waiting_customer."
    assert (
        await ask(telegram, "/priority urgnet", thread=thread)
        == "#1 (waiting_customer, urgent) updated."
    )
    assert await ask(telegram, "/prio high #1") == "#1 (waiting_customer, high) updated."
    assert await ask(telegram, "/priority high") == (
        "Name the ticket (#N) or use the command in its topic."
    )
    assert await ask(telegram, "/priority #7 high") == "There is no ticket #7."
    await posted_in_topic(telegram, thread, "priority urgent → high")

    usage = await ask(telegram, "/priority", thread=thread)
    assert usage == "/priority needs level. Usage: /priority <low|normal|high|urgent> [#N]"
    usage = await ask(telegram, "/status closed", thread=thread)
    assert "state must be one of open, in_progress, waiting_customer, resolved" in usage
    assert usage.endswith("Usage: /status <open|in_progress|waiting_customer|resolved> [#N]")

    assert await ask(telegram, "/status resolved #1") == "#1 (resolved, high) updated."
    ticket = await models.Ticket.get(id=1)
    assert (ticket.status, ticket.priority) == (TicketStatus.RESOLVED, TicketPriority.HIGH)
    assert (await models.Conversation.get(id=1)).handoff is HandoffState.BOT
    kinds = [e.kind for e in await history(1)]
    assert kinds.count("status") == 2 and kinds.count("priority") == 2


async def test_ai_switches_for_the_conversation_the_customer_and_everyone(
    telegram: TelegramWorld,
) -> None:
    thread = await hand_off(telegram, CUSTOMER)
    answer = await ask(telegram, "/ai off", thread=thread)
    assert answer == "AI replies off for this conversation (@li_support)"
    assert (await models.Conversation.get(id=1)).ai_enabled is False
    assert "for this customer" in await ask(telegram, "/ai of customer #1")
    assert (await models.Customer.get(id=1)).ai_enabled is False

    assert await ask(telegram, "/ai off all") == "/ai … all is for admins only."
    assert await models.SystemValue.filter(key="ai_enabled").count() == 0
    assert await ask(telegram, "/ai off all", admin=True) == "AI replies are off for everyone."
    assert (await models.SystemValue.get(key="ai_enabled")).value == "false"
    assert await ask(telegram, "/ai on everyone", admin=True) == (
        "scope must be one of conversation, customer, all, not 'everyone'. "
        "Usage: /ai <on|off> [conversation|customer|all] [#N]"
    )
    assert await ask(telegram, "/ai on all", admin=True) == "AI replies are on for everyone."
    ai_events = [e for e in await history(1) if e.kind == "ai"]
    assert len(ai_events) == 2  # the service-wide switch belongs to no ticket


async def test_a_note_stays_with_the_ticket_and_away_from_the_customer(
    telegram: TelegramWorld,
) -> None:
    thread = await hand_off(telegram, CUSTOMER)
    before = list(telegram.fake.texts(CUSTOMER))
    answer = await ask(telegram, "/note called them, order #4711 ships Monday", thread=thread)
    assert answer == "Note added to #1."
    await posted_in_topic(telegram, thread, "Note by Li")
    await posted_in_topic(telegram, thread, "order #4711 ships Monday")
    await asyncio.sleep(SILENCE)
    assert telegram.fake.texts(CUSTOMER) == before
    [note] = [e for e in await history(1) if e.kind == "note"]
    assert note.detail["note"] == "called them, order #4711 ships Monday"
    assert note.actor is not None and note.actor.username == "li_support"
    assert await ask(telegram, "/note", thread=thread) == (
        "/note needs text. Usage: /note <text...> [#N]"
    )


async def test_a_web_customer_rates_with_a_number(telegram: TelegramWorld) -> None:
    async with aiohttp.ClientSession() as session:
        visitor = await WidgetClient.connect(session, telegram.server.ws_url)
        await visitor.say("I need to talk to a person")
        assert (await visitor.next_reply())["text"] == render(Text.HANDOFF_NOTICE, "en")
        await telegram.fake.wait_for(lambda f: f.topics)
        thread = next(iter(telegram.fake.topics))
        await telegram.fake.wait_for(lambda f: f.texts(AGENTS_CHAT, thread_id=thread))

        assert await ask(telegram, "/close #1") == "#1 (closed, normal) closed."
        assert (await visitor.next_reply())["text"] == render(Text.TICKET_CLOSED, "en")
        question = await visitor.next_reply()
        assert question["text"] == render(Text.RATING_QUESTION, "en")
        await visitor.say("4")
        assert (await visitor.next_reply())["text"] == render(Text.RATING_THANKS, "en")
    assert (await models.Ticket.get(id=1)).satisfaction == 4


async def test_a_customer_typing_commands_changes_nothing(telegram: TelegramWorld) -> None:
    thread = await hand_off(telegram, CUSTOMER)
    faq_before = await models.FaqRecord.all().count()
    for text in ("/close", "/priority urgent #1", "/tag add vip", "/faq remove password-reset"):
        await telegram.post(private_message(CUSTOMER, text))
        await posted_in_topic(telegram, thread, text)  # mirrored as the customer's words
    ticket = await models.Ticket.get(id=1)
    assert (ticket.status, ticket.priority) == (TicketStatus.OPEN, TicketPriority.NORMAL)
    assert (await models.Customer.get(id=1)).tags == []
    assert await models.FaqRecord.all().count() == faq_before
    assert [e.kind for e in await history(1)] == ["opened"]
    assert not [t for t in telegram.fake.texts(CUSTOMER) if "Unknown command" in t]

    async with aiohttp.ClientSession() as session:
        visitor = await WidgetClient.connect(session, telegram.server.ws_url)
        await visitor.say("/faq remove password-reset")
        reply = await visitor.next_reply()
        assert "Removed" not in reply["text"]
    assert await models.FaqRecord.all().count() == faq_before
