"""The agents' chat across channels and restarts, polling mode and webhook registration."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.texts import Text, render
from bot.types import MessageStatus, TicketStatus
from storage import models
from storage.tickets import list_tickets
from tests.conftest import (
    WEBHOOK_SECRET,
    SettingsFactory,
    TelegramWorld,
    _serve,
    telegram_overrides,
)
from tests.fakes.telegram_api import FakeTelegram, running
from tests.telegram_updates import AGENTS_CHAT, agent_message, button_press, private_message
from tests.widget_client import WidgetClient

CUSTOMER = 601


async def test_a_widget_customer_is_handed_to_a_topic_and_sees_the_reply_live(
    telegram: TelegramWorld,
) -> None:
    async with aiohttp.ClientSession() as session:
        visitor = await WidgetClient.connect(session, telegram.server.ws_url, language="es-ES")
        await visitor.say("Quiero hablar con un agente")
        notice = await visitor.next_reply()
        assert notice["text"] == render(Text.HANDOFF_NOTICE, "es")

        await telegram.fake.wait_for(lambda f: f.methods("createForumTopic"))
        created = telegram.fake.methods("createForumTopic")[0]
        assert created.params["name"].endswith("· web")
        thread = next(iter(telegram.fake.topics))
        await telegram.fake.wait_for(
            lambda f: any("Quiero hablar" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
        )

        await telegram.post(
            agent_message("¡Hola! Soy Li, ¿en qué puedo ayudarle?", thread_id=thread)
        )
        reply = await visitor.next_reply()
        assert (reply["text"], reply["sender"], reply["author"]) == (
            "¡Hola! Soy Li, ¿en qué puedo ayudarle?",
            "agent",
            "Li",
        )
        # The visitor's next message lands in the same topic.
        await visitor.say("Gracias, mi pedido es 8812")
        await telegram.fake.wait_for(
            lambda f: any("8812" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
        )
        assert len(telegram.fake.methods("createForumTopic")) == 1


async def test_ai_on_lets_the_bot_answer_again_while_the_ticket_stays_open(
    telegram: TelegramWorld,
) -> None:
    await telegram.post(private_message(CUSTOMER, "human please"))
    await telegram.fake.wait_for(lambda f: f.methods("createForumTopic"))
    thread = next(iter(telegram.fake.topics))
    await telegram.post(
        button_press("/ai on #1", from_id=7002, chat_id=AGENTS_CHAT, thread_id=thread)
    )
    await telegram.fake.wait_for(lambda f: f.methods("answerCallbackQuery"))

    await telegram.post(private_message(CUSTOMER, "How do I reset my password?"))
    await telegram.fake.wait_for(lambda f: len(f.texts(CUSTOMER)) == 2)
    assert "Forgot password" in telegram.fake.texts(CUSTOMER)[-1]
    [ticket] = await list_tickets()
    assert ticket.status is TicketStatus.OPEN  # still there for the agents


async def test_a_restart_keeps_the_topic_and_sends_what_was_owed(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """The Bot API is down when the agent answers; after a restart the reply goes out once."""
    fake = FakeTelegram()
    async with running(fake) as (_, api_url), aiohttp.ClientSession() as session:
        settings = make_settings(**telegram_overrides(api_url))
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}

        async def post(server_url: str, update: dict[str, object]) -> None:
            async with session.post(
                f"{server_url}/telegram/webhook", json=update, headers=headers
            ) as response:
                assert response.status == 200

        async with _serve(settings) as first:
            await post(first.url, private_message(CUSTOMER, "I need a human"))
            await fake.wait_for(lambda f: f.methods("createForumTopic"))
            thread = next(iter(fake.topics))
            await fake.wait_for(lambda f: f.texts(CUSTOMER))
            fake.fail(
                "sendMessage",
                status=502,
                description="Bad Gateway",
                retry_after=None,
                chat_id=CUSTOMER,
                times=100,
            )
            await post(first.url, agent_message("Your refund is on its way.", thread_id=thread))
            await fake.wait_for(lambda f: any("refund" in c.text for c in f.sent(CUSTOMER)))
        fake.failures.clear()

        async with _serve(settings) as second:
            await fake.wait_for(lambda f: any("refund" in t for t in f.texts(CUSTOMER)), within=15)
            await post(second.url, private_message(CUSTOMER, "Thanks! One more thing"))
            await fake.wait_for(
                lambda f: any("One more thing" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
            )
            sent = await models.Message.get(text="Your refund is on its way.")
            assert sent.status is MessageStatus.SENT
        assert len(fake.methods("createForumTopic")) == 1
        attempts = [c for c in fake.sent(CUSTOMER) if "refund" in c.text]
        assert len(attempts) >= 2  # refused while the API was down, then sent after the restart
        assert [t for t in fake.texts(CUSTOMER) if "refund" in t] == [
            "Li\nYour refund is on its way."
        ]


async def test_polling_mode_reads_updates_and_confirms_them(make_settings: SettingsFactory) -> None:
    fake = FakeTelegram()
    fake.updates.append(private_message(CUSTOMER, "How do I reset my password?", update_id=500))
    async with running(fake) as (_, api_url):
        overrides = telegram_overrides(api_url, telegram_mode="polling")
        overrides.pop("telegram_webhook_secret")
        async with _serve(make_settings(**overrides)):
            await fake.wait_for(lambda f: f.texts(CUSTOMER))
            await fake.wait_for(
                lambda f: any(c.params.get("offset") == "501" for c in f.methods("getUpdates"))
            )
    assert fake.methods("deleteWebhook")
    assert "Forgot password" in fake.texts(CUSTOMER)[0]


async def test_the_webhook_registers_itself_at_the_public_url(
    make_settings: SettingsFactory,
) -> None:
    fake = FakeTelegram()
    async with running(fake) as (_, api_url):
        settings = make_settings(
            **telegram_overrides(api_url), public_url="https://support.example.com"
        )
        async with _serve(settings):
            await fake.wait_for(lambda f: f.methods("setWebhook"))
    [registered] = fake.methods("setWebhook")
    assert registered.params["url"] == "https://support.example.com/telegram/webhook"
    assert registered.params["secret_token"] == WEBHOOK_SECRET


async def test_many_messages_of_one_new_customer_open_one_topic(telegram: TelegramWorld) -> None:
    updates = [private_message(CUSTOMER, f"operator, message {n}") for n in range(15)]
    await asyncio.gather(*(telegram.post(update) for update in updates))
    await telegram.fake.wait_for(
        lambda f: all(any(f"message {n}" in t for t in f.texts(AGENTS_CHAT)) for n in range(15)),
        within=15,
    )
    assert len(telegram.fake.methods("createForumTopic")) == 1
    assert len(await list_tickets()) == 1


async def test_an_agents_photo_is_announced_in_the_widget(telegram: TelegramWorld) -> None:
    async with aiohttp.ClientSession() as session:
        visitor = await WidgetClient.connect(session, telegram.server.ws_url)
        await visitor.say("I need a human")
        await visitor.next_reply()
        await telegram.fake.wait_for(lambda f: f.methods("createForumTopic"))
        thread = next(iter(telegram.fake.topics))
        photo = [{"file_id": "agent-photo", "file_unique_id": "a", "width": 64, "height": 64}]
        update = agent_message(None, thread_id=thread, photo=photo, caption="Here it is")
        await telegram.post(update)
        reply = await visitor.next_reply()
        assert reply["text"] == "Here it is"
        assert reply["attachments"] == [{"kind": "image", "name": None}]
