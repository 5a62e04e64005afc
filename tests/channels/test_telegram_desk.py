"""The agents' chat across channels and restarts, polling mode and webhook registration."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from bot.config import Settings
from bot.texts import Text, render
from bot.types import MessageStatus, TicketStatus
from storage import models
from storage.tickets import list_tickets
from tests.conftest import (
    WEBHOOK_SECRET,
    LiveServer,
    SettingsFactory,
    TelegramWorld,
    _serve,
    telegram_overrides,
)
from tests.fakes.telegram_api import Failure, FakeTelegram, running
from tests.telegram_updates import AGENTS_CHAT, agent_message, button_press, private_message
from tests.waiting import eventually
from tests.widget_client import WidgetClient

CUSTOMER = 601
UPDATE_IDS = itertools.count(880_000)


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
    thread = await telegram.hand_off(CUSTOMER)
    await telegram.post(
        button_press("/ai on #1", from_id=7002, chat_id=AGENTS_CHAT, thread_id=thread)
    )
    await telegram.fake.wait_for(lambda f: f.methods("answerCallbackQuery"))

    await telegram.post(private_message(CUSTOMER, "How do I reset my password?"))
    await telegram.fake.wait_for(lambda f: len(f.texts(CUSTOMER)) == 2)
    assert "Forgot password" in telegram.fake.texts(CUSTOMER)[-1]
    [ticket] = await list_tickets()
    assert ticket.status is TicketStatus.OPEN  # still there for the agents


@dataclass
class Restartable:
    """A fake Bot API and settings that outlive the server: start it, stop it, start again."""

    fake: FakeTelegram
    settings: Settings
    session: aiohttp.ClientSession

    def serve(self) -> contextlib.AbstractAsyncContextManager[LiveServer]:
        return _serve(self.settings)

    async def post(self, server: LiveServer, update: dict[str, object]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with self.session.post(
            f"{server.url}/telegram/webhook", json=update, headers=headers
        ) as response:
            assert response.status == 200

    async def handed_off(self, server: LiveServer) -> int:
        """The customer asks for a person; their topic's thread id once it is open."""
        await self.post(server, private_message(CUSTOMER, "I need a human"))
        await self.fake.wait_for(lambda f: f.methods("createForumTopic"))
        thread = next(iter(self.fake.topics))
        await self.fake.wait_for(lambda f: f.texts(CUSTOMER) and f.texts(AGENTS_CHAT))
        return int(thread)

    def go_down(self, method: str, *, chat_id: int, text_contains: str | None = None) -> None:
        """The Bot API answers 502 to these calls until `fake.failures` is cleared."""
        self.fake.fail(
            method,
            status=502,
            description="Bad Gateway",
            retry_after=None,
            chat_id=chat_id,
            times=100,
            text_contains=text_contains,
        )


@contextlib.asynccontextmanager
async def restartable(make_settings: SettingsFactory) -> AsyncIterator[Restartable]:
    fake = FakeTelegram()
    async with running(fake) as (_, api_url), aiohttp.ClientSession() as session:
        yield Restartable(fake, make_settings(**telegram_overrides(api_url)), session)


async def test_a_restart_keeps_the_topic_and_sends_what_was_owed(
    make_settings: SettingsFactory,
) -> None:
    """The Bot API is down when the agent answers; after a restart the reply goes out once."""
    async with restartable(make_settings) as world:
        fake = world.fake
        async with world.serve() as first:
            thread = await world.handed_off(first)
            world.go_down("sendMessage", chat_id=CUSTOMER)
            await world.post(first, agent_message("Your refund is on its way.", thread_id=thread))
            await fake.wait_for(lambda f: any("refund" in c.text for c in f.sent(CUSTOMER)))
        fake.failures.clear()

        async with world.serve() as second:
            await fake.wait_for(lambda f: any("refund" in t for t in f.texts(CUSTOMER)), within=15)
            await world.post(second, private_message(CUSTOMER, "Thanks! One more thing"))
            await fake.wait_for(
                lambda f: any("One more thing" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
            )
            sent = await models.Message.get(text="Your refund is on its way.")
            assert sent.status is MessageStatus.SENT
            # The returning customer is the one stored before the restart.
            assert await models.Customer.all().count() == 1
            assert await models.Conversation.all().count() == 1
        assert len(fake.methods("createForumTopic")) == 1
        attempts = [c for c in fake.sent(CUSTOMER) if "refund" in c.text]
        assert len(attempts) >= 2  # refused while the API was down, then sent after the restart
        assert [t for t in fake.texts(CUSTOMER) if "refund" in t] == [
            "Li\nYour refund is on its way."
        ]


async def test_a_long_reply_cut_off_by_a_restart_sends_each_part_once(
    make_settings: SettingsFactory,
) -> None:
    """Part one of an agent's long reply went out, part two kept failing: the restarted
    server sends part two only."""
    reply = "PART-ONE " + "alpha " * 600 + "\n\nPART-TWO " + "omega " * 200
    async with restartable(make_settings) as world:
        fake = world.fake
        async with world.serve() as first:
            thread = await world.handed_off(first)
            world.go_down("sendMessage", chat_id=CUSTOMER, text_contains="PART-TWO")
            await world.post(first, agent_message(reply, thread_id=thread))
            await fake.wait_for(lambda f: any("PART-TWO" in c.text for c in f.sent(CUSTOMER)))
        fake.failures.clear()

        async with world.serve():
            await fake.wait_for(
                lambda f: any("PART-TWO" in t for t in f.texts(CUSTOMER)), within=15
            )

            async def marked_sent() -> bool:
                sent = await models.Message.get(text=reply)
                return sent.status is MessageStatus.SENT

            await eventually(marked_sent)
        assert len([t for t in fake.texts(CUSTOMER) if "PART-ONE" in t]) == 1
        assert len([t for t in fake.texts(CUSTOMER) if "PART-TWO" in t]) == 1
        assert len([c for c in fake.sent(CUSTOMER) if "PART-TWO" in c.text]) >= 2


async def test_a_topic_post_cut_off_by_a_restart_shows_its_text_once(
    make_settings: SettingsFactory,
) -> None:
    """A customer's photo with a long caption is posted as text, then the photo; the photo
    failed until a restart, and the text is not posted again."""
    photo = [{"file_id": "receipt-id", "file_unique_id": "r", "width": 800, "height": 600}]
    caption = "CAPTION-MARK " + "the receipt shows a double charge " * 40
    async with restartable(make_settings) as world:
        fake = world.fake
        async with world.serve() as first:
            thread = await world.handed_off(first)
            world.go_down("sendPhoto", chat_id=AGENTS_CHAT)
            await world.post(first, private_message(CUSTOMER, None, photo=photo, caption=caption))
            await fake.wait_for(lambda f: f.methods("sendPhoto"))
        fake.failures.clear()

        async with world.serve():
            await fake.wait_for(
                lambda f: any(c.status == 200 for c in f.methods("sendPhoto")), within=15
            )
        shown = [t for t in fake.texts(AGENTS_CHAT, thread_id=thread) if "CAPTION-MARK" in t]
        assert len(shown) == 1
        assert len(fake.methods("sendPhoto")) >= 2
        [delivered] = [c for c in fake.methods("sendPhoto") if c.status == 200]
        assert delivered.params["photo"] == "receipt-id"


async def test_a_deleted_topic_is_replaced_by_a_new_one(telegram: TelegramWorld) -> None:
    first = await telegram.hand_off(CUSTOMER)
    telegram.fake.delete_topic(first)

    await telegram.post(private_message(CUSTOMER, "My order 4711 never arrived"))
    await telegram.fake.wait_for(lambda f: len(f.methods("createForumTopic")) == 2)
    second = max(telegram.fake.topics)
    await telegram.fake.wait_for(
        lambda f: any("4711" in t for t in f.texts(AGENTS_CHAT, thread_id=second))
    )
    await telegram.post(private_message(CUSTOMER, "Any news?"))
    await telegram.fake.wait_for(
        lambda f: any("Any news" in t for t in f.texts(AGENTS_CHAT, thread_id=second))
    )
    assert len(telegram.fake.methods("createForumTopic")) == 2
    # The new topic opens with the ticket's card and buttons: agents can act on it there.
    [card, *_] = telegram.fake.sent(AGENTS_CHAT, thread_id=second, ok_only=True)
    assert "Ticket #1" in card.text and "previous topic was deleted" in card.text
    actions = [
        b["callback_data"] for row in card.params["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert "/assign me #1" in actions
    refused = [c for c in telegram.fake.sent(AGENTS_CHAT, thread_id=first) if c.status != 200]
    assert len(refused) == 1  # tried once, then the new topic
    # The agent's reply from the new topic reaches the customer.
    await telegram.post(agent_message("Checking 4711 now.", thread_id=second))
    await telegram.fake.wait_for(lambda f: any("Checking 4711" in t for t in f.texts(CUSTOMER)))


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        ({"forum": False}, "turn on Topics"),
        ({"bot_manages_topics": False}, "make it an administrator"),
        ({"unknown_chats": {AGENTS_CHAT}}, "Add the bot to the group"),
        ({"failures": [Failure("getChat", 502, "Bad Gateway")]}, "could not check"),
        ({}, None),
    ],
)
async def test_a_misconfigured_agents_chat_is_reported_at_start(
    make_settings: SettingsFactory,
    caplog: pytest.LogCaptureFixture,
    setup: dict[str, object],
    says: str | None,
) -> None:
    fake = FakeTelegram(**setup)  # type: ignore[arg-type]

    def reported() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name.startswith("channels.telegram")]

    async def checked() -> bool:
        return any(r.levelno >= logging.WARNING or "checked" in r.getMessage() for r in reported())

    async with running(fake) as (_, api_url):
        with caplog.at_level(logging.INFO, logger="channels.telegram"):
            async with (
                _serve(make_settings(**telegram_overrides(api_url))) as server,
                aiohttp.ClientSession() as session,
                session.get(f"{server.url}/healthz") as health,
            ):
                assert health.status == 200  # the server runs; the admin is told
                await eventually(checked)
    problems = [r.getMessage() for r in reported() if r.levelno >= logging.WARNING]
    if says is None:
        assert problems == []
    else:
        assert len(problems) == 1 and says in problems[0], problems
        assert str(AGENTS_CHAT) in problems[0]


async def test_an_agent_editing_a_reply_is_told_the_customer_keeps_the_first_version(
    telegram: TelegramWorld,
) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    reply = agent_message("Your refund is on it's way.", thread_id=thread)
    await telegram.post(reply)
    await telegram.fake.wait_for(lambda f: any("refund" in t for t in f.texts(CUSTOMER)))

    for correction in ("Your refund is on its way.", "Your refund is on its way!"):
        edited = dict(reply["message"], text=correction, edit_date=int(time.time()))
        await telegram.post({"update_id": next(UPDATE_IDS), "edited_message": edited})
    await telegram.fake.wait_for(
        lambda f: any(
            "Edits are not passed on" in t for t in f.texts(AGENTS_CHAT, thread_id=thread)
        )
    )
    notices = [
        c for c in telegram.fake.sent(AGENTS_CHAT, thread_id=thread) if "Edits are not" in c.text
    ]
    assert len(notices) == 1  # once per message, however often it is edited
    assert notices[0].params["reply_parameters"]["message_id"] == reply["message"]["message_id"]
    assert [t for t in telegram.fake.texts(CUSTOMER) if "refund" in t] == [
        "Li\nYour refund is on it's way."
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
                lambda f: any(str(c.params.get("offset")) == "501" for c in f.methods("getUpdates"))
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


JPEG = b"\xff\xd8\xff\xe0 a small photo \xff\xd9"


async def _handed_off_visitor(
    telegram: TelegramWorld, session: aiohttp.ClientSession
) -> tuple[WidgetClient, int]:
    visitor = await WidgetClient.connect(session, telegram.server.ws_url)
    await visitor.say("I need a human")
    await visitor.next_reply()
    await telegram.fake.wait_for(lambda f: f.methods("createForumTopic"))
    return visitor, next(iter(telegram.fake.topics))


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_an_agents_photo_opens_from_the_widget_and_after_a_reload(
    make_settings: SettingsFactory, request: pytest.FixtureRequest, database: str
) -> None:
    overrides = {}
    if database == "postgres":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    async with (
        running() as (fake, api_url),
        aiohttp.ClientSession() as session,
        _serve(make_settings(**telegram_overrides(api_url), **overrides)) as server,
    ):
        telegram = TelegramWorld(server, fake, session)
        await _photo_round_trip(telegram, session)


async def _photo_round_trip(telegram: TelegramWorld, session: aiohttp.ClientSession) -> None:
    """An agent's photo reaches the widget as a link that opens, live and in the history."""
    telegram.fake.add_file("agent-photo", "photos/file_7.jpg", JPEG)
    visitor, thread = await _handed_off_visitor(telegram, session)
    photo = [{"file_id": "agent-photo", "file_unique_id": "a", "width": 64, "height": 64}]
    update = agent_message(None, thread_id=thread, photo=photo, caption="Here it is")
    await telegram.post(update)
    reply = await visitor.next_reply()
    assert reply["text"] == "Here it is"
    [file] = reply["attachments"]
    assert (file["kind"], file["name"]) == ("image", None)
    async with session.get(telegram.server.url + file["url"]) as response:
        assert response.status == 200
        assert response.content_type == "image/jpeg"
        assert response.headers["Content-Disposition"].startswith("inline;")
        assert await response.read() == JPEG

    again = await WidgetClient.connect(session, telegram.server.ws_url, token=visitor.token)
    [shown] = [m for m in again.history if m["text"] == "Here it is"]
    [file] = shown["attachments"]
    async with session.get(telegram.server.url + file["url"]) as response:
        assert (response.status, await response.read()) == (200, JPEG)


async def test_file_links_cannot_be_forged_and_unsafe_types_are_downloaded(
    telegram: TelegramWorld,
) -> None:
    telegram.fake.add_file("agent-doc", "documents/file_8.html", b"<script>alert(1)</script>")
    async with aiohttp.ClientSession() as session:
        visitor, thread = await _handed_off_visitor(telegram, session)
        document = {
            "file_id": "agent-doc",
            "file_unique_id": "d",
            "file_name": "Rechnung März.html",
            "mime_type": "text/html",
        }
        await telegram.post(agent_message(None, thread_id=thread, document=document))
        [file] = (await visitor.next_reply())["attachments"]
        url = telegram.server.url + file["url"]
        async with session.get(url) as response:
            assert response.status == 200
            assert response.content_type == "application/octet-stream"
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith("attachment;")
            assert "filename*=UTF-8''Rechnung%20M%C3%A4rz.html" in disposition
        for forged in (
            url[:-2] + ("AA" if not url.endswith("AA") else "BB"),
            url.replace("/0?", "/1?"),
            url.split("?")[0],
        ):
            async with session.get(forged) as response:
                assert response.status == 403, forged

        # Telegram no longer has the file: a clear error, and the server carries on.
        del telegram.fake.files["agent-doc"]
        async with session.get(url) as response:
            assert response.status == 502
            assert "cannot be fetched" in await response.text()
        async with session.get(telegram.server.url + "/healthz") as response:
            assert response.status == 200


PNG = b"\x89PNG\r\n\x1a\n a small screenshot"


async def test_a_widget_visitors_files_reach_the_topic_as_files(telegram: TelegramWorld) -> None:
    async with aiohttp.ClientSession() as session:
        visitor = await WidgetClient.connect(session, telegram.server.ws_url)
        ack = await visitor.send_file(PNG, name="screen.png", mime_type="image/png")
        assert ack["type"] == "ack"
        await telegram.fake.wait_for(lambda f: f.methods("sendPhoto"))
        [photo] = telegram.fake.methods("sendPhoto")
        assert photo.thread_id == next(iter(telegram.fake.topics))
        assert photo.upload("photo") == ("screen.png", PNG)
        assert "screen.png" in photo.text  # the handoff summary is its caption

        pdf = b"%PDF-1.4 order 8812"
        await visitor.send_file(pdf, name="order.pdf", mime_type="application/pdf", text="See")
        await telegram.fake.wait_for(lambda f: f.methods("sendDocument"))
        [document] = telegram.fake.methods("sendDocument")
        assert document.upload("document") == ("order.pdf", pdf)
        assert document.thread_id == photo.thread_id
        await visitor.ws.close()
