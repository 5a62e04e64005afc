"""Telegram end to end: real Update JSON in at the webhook, real Bot API calls out."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import pytest

from bot.texts import Text, render
from bot.types import AttachmentKind, Direction, MessageStatus, TicketStatus
from storage import models
from storage.tickets import list_tickets
from tests.conftest import TelegramWorld
from tests.fakes.telegram_api import Call
from tests.telegram_updates import (
    AGENTS_CHAT,
    agent_message,
    button_press,
    edited_message,
    private_message,
)

CUSTOMER = 501
SILENCE = 0.6


def sample_answer(faq_id: str, language: str) -> str:
    data = json.loads(resources.files("knowledge").joinpath("sample_faq.json").read_text("utf-8"))
    return str(
        next(e["answer"] for e in data["faq"] if e["id"] == faq_id and e["lang"] == language)
    )


def to_customer(world: TelegramWorld, chat: int = CUSTOMER) -> list[str]:
    return world.fake.texts(chat)


async def test_an_faq_question_is_answered_in_the_private_chat(telegram: TelegramWorld) -> None:
    response = await telegram.post(private_message(CUSTOMER, "How do I reset my password?"))
    assert response.status == 200
    await telegram.fake.wait_for(lambda f: f.sent(CUSTOMER))
    assert to_customer(telegram) == [sample_answer("password-reset", "en")]
    assert await list_tickets() == []
    assert telegram.fake.sent(AGENTS_CHAT) == []  # nobody needed


async def test_start_greets_in_the_customers_telegram_language(telegram: TelegramWorld) -> None:
    await telegram.post(private_message(CUSTOMER, "/start", language="de"))
    await telegram.fake.wait_for(lambda f: f.sent(CUSTOMER))
    assert to_customer(telegram) == [render(Text.GREETING, "de", company="Helpline")]


async def test_handoff_opens_one_topic_with_a_summary_and_buttons(telegram: TelegramWorld) -> None:
    await telegram.post(private_message(CUSTOMER, "Hallo, wo ist meine Bestellung 4711?"))
    await telegram.fake.wait_for(lambda f: f.sent(CUSTOMER))
    thread = await telegram.hand_off(CUSTOMER)

    [summary] = telegram.fake.sent(AGENTS_CHAT, thread_id=thread)[:1]
    assert "Ticket #1" in summary.text and "Anna" in summary.text
    assert "wo ist meine Bestellung 4711" in summary.text  # the recent messages
    actions = {button["callback_data"] for button in summary.buttons}
    assert {"/assign me #1", "/close #1", "/ai on #1"} <= actions
    await telegram.fake.wait_for(lambda f: len(f.texts(CUSTOMER)) == 2)
    assert to_customer(telegram)[-1] == render(Text.HANDOFF_NOTICE, "en")
    # The bot's own notice is mirrored and marked as the bot's.
    await telegram.fake.wait_for(
        lambda f: any("Bot to customer" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
    )
    [ticket] = await list_tickets()
    assert ticket.status is TicketStatus.OPEN


async def test_agent_reply_in_the_topic_reaches_the_customer(telegram: TelegramWorld) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    await telegram.fake.wait_for(lambda f: len(f.texts(CUSTOMER)) == 1)

    response = await telegram.post(agent_message("Hi Anna, I'm on it.", thread_id=thread))
    assert response.status == 200
    await telegram.fake.wait_for(lambda f: len(f.texts(CUSTOMER)) == 2)
    assert to_customer(telegram)[-1] == "Li\nHi Anna, I'm on it."
    [ticket] = await list_tickets()
    assert ticket.status is TicketStatus.IN_PROGRESS and ticket.first_response_at is not None

    # While a person handles the ticket, the bot says nothing, even to an FAQ question...
    await telegram.post(private_message(CUSTOMER, "How do I reset my password?"))
    # ...but the agents see it in the topic.
    await telegram.fake.wait_for(
        lambda f: any("reset my password" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
    )
    await asyncio.sleep(SILENCE)
    assert len(to_customer(telegram)) == 2


async def test_a_redelivered_update_is_answered_once(telegram: TelegramWorld) -> None:
    update = private_message(CUSTOMER, "How do I reset my password?")
    statuses = await asyncio.gather(*(telegram.post(update) for _ in range(3)))
    assert [s.status for s in statuses] == [200, 200, 200]
    assert (await telegram.post(update)).status == 200
    await telegram.fake.wait_for(lambda f: f.sent(CUSTOMER))
    await asyncio.sleep(SILENCE)
    assert len(to_customer(telegram)) == 1
    assert await models.Message.filter(direction=Direction.INCOMING).count() == 1


async def test_the_longest_message_telegram_allows_is_accepted(telegram: TelegramWorld) -> None:
    longest = "Mein Paket ist nicht angekommen. " * 124 + "Bitt"
    assert len(longest) == 4096
    assert (await telegram.post(private_message(CUSTOMER, longest, language="de"))).status == 200
    await telegram.fake.wait_for(lambda f: f.sent(CUSTOMER))
    [stored] = await models.Message.filter(direction=Direction.INCOMING)
    assert stored.text == longest
    assert not any(
        render(Text.MESSAGE_TOO_LONG, "de", limit=4096) in t for t in telegram.fake.texts(CUSTOMER)
    )


async def test_bad_webhook_calls_are_refused_and_nothing_is_processed(
    telegram: TelegramWorld,
) -> None:
    update = private_message(CUSTOMER, "How do I reset my password?")
    assert (await telegram.post(update, secret="wrong")).status == 401
    assert (await telegram.post(update, secret=None)).status == 401
    async with telegram.session.post(
        f"{telegram.server.url}/telegram/webhook",
        data=b"{not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret_1"},
    ) as response:
        assert response.status == 400
    assert (await telegram.post({"no": "update_id"})).status == 400
    await asyncio.sleep(SILENCE)
    assert telegram.fake.sent() == []
    assert await models.Message.all().count() == 0


async def test_updates_we_do_not_act_on_are_acknowledged(telegram: TelegramWorld) -> None:
    reaction = {
        "update_id": 99001,
        "message_reaction": {
            "chat": {"id": CUSTOMER, "type": "private"},
            "message_id": 5,
            "date": 1700000000,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    }
    member = {
        "update_id": 99002,
        "my_chat_member": {
            "chat": {"id": CUSTOMER, "type": "private"},
            "from": {"id": CUSTOMER, "is_bot": False, "first_name": "Anna"},
            "date": 1700000000,
            "old_chat_member": {
                "status": "member",
                "user": {"id": 123456789, "is_bot": True, "first_name": "Helpline"},
            },
            "new_chat_member": {
                "status": "kicked",
                "until_date": 0,
                "user": {"id": 123456789, "is_bot": True, "first_name": "Helpline"},
            },
        },
    }
    unknown_button = button_press("something:old", from_id=CUSTOMER, chat_id=CUSTOMER)
    for update in (reaction, member, unknown_button):
        assert (await telegram.post(update)).status == 200
    await telegram.fake.wait_for(lambda f: f.methods("answerCallbackQuery"))
    await asyncio.sleep(SILENCE)
    assert telegram.fake.sent() == []


async def test_a_customer_typing_a_staff_command_is_just_text(telegram: TelegramWorld) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    await telegram.post(private_message(CUSTOMER, "/close"))
    await telegram.fake.wait_for(
        lambda f: any("/close" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
    )
    [ticket] = await list_tickets()
    assert ticket.status is TicketStatus.OPEN


async def test_photos_and_voice_are_stored_and_shown_to_agents(telegram: TelegramWorld) -> None:
    photo = [
        {"file_id": "small-id", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "big-id", "file_unique_id": "b", "width": 800, "height": 600},
    ]
    await telegram.post(private_message(CUSTOMER, None, photo=photo, caption=None))
    await telegram.fake.wait_for(lambda f: f.sent(AGENTS_CHAT))
    assert to_customer(telegram)[-1] == render(Text.ATTACHMENT_TEXT_ONLY, "en")
    [stored] = await models.Attachment.all()
    assert (stored.kind, stored.reference) == (AttachmentKind.IMAGE, "big-id")
    await telegram.fake.wait_for(lambda f: f.methods("sendPhoto"))
    shown = telegram.fake.methods("sendPhoto")[-1]
    assert shown.chat_id == AGENTS_CHAT and shown.params["photo"] == "big-id"

    voice = {"file_id": "voice-id", "file_unique_id": "v", "duration": 3}
    await telegram.post(private_message(CUSTOMER, None, voice=voice))
    await telegram.fake.wait_for(lambda f: f.methods("sendVoice"))
    assert telegram.fake.methods("sendVoice")[-1].params["voice"] == "voice-id"


async def test_an_edited_message_is_mirrored_into_the_topic(telegram: TelegramWorld) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    sent = private_message(CUSTOMER, "My order is 1234")
    await telegram.post(sent)
    message_id = sent["message"]["message_id"]
    await telegram.post(edited_message(CUSTOMER, message_id, "My order is 1243"))
    await telegram.fake.wait_for(
        lambda f: any("edited" in t and "1243" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
    )


async def test_buttons_take_and_close_the_ticket(telegram: TelegramWorld) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    take = button_press("/assign me #1", from_id=7002, chat_id=AGENTS_CHAT, thread_id=thread)
    assert (await telegram.post(take)).status == 200
    await telegram.fake.wait_for(lambda f: f.methods("answerCallbackQuery"))
    [ticket] = await list_tickets()
    assert ticket.status is TicketStatus.IN_PROGRESS and ticket.assignee_id is not None
    answer = telegram.fake.methods("answerCallbackQuery")[-1]
    assert "assigned" in answer.params["text"]

    close = button_press("/close #1", from_id=7002, chat_id=AGENTS_CHAT, thread_id=thread)
    await telegram.post(close)
    await telegram.fake.wait_for(lambda f: f.methods("closeForumTopic"))
    closed = await models.Ticket.get(id=1)
    assert closed.status is TicketStatus.CLOSED
    await telegram.fake.wait_for(lambda f: render(Text.RATING_QUESTION, "en") in f.texts(CUSTOMER))
    rating = telegram.fake.sent(CUSTOMER)[-1]
    assert [b["callback_data"] for b in rating.buttons] == [f"rate:1:{n}" for n in range(1, 6)]

    # The customer rates with a button; the score is kept with the ticket.
    await telegram.post(button_press("rate:1:5", from_id=CUSTOMER, chat_id=CUSTOMER))
    await telegram.fake.wait_for(lambda f: render(Text.RATING_THANKS, "en") in f.texts(CUSTOMER))
    assert (await models.Ticket.get(id=1)).satisfaction == 5


async def test_a_returning_customer_gets_the_same_topic_back(telegram: TelegramWorld) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    await telegram.post(agent_message("/close", thread_id=thread))
    await telegram.fake.wait_for(lambda f: f.methods("closeForumTopic"))
    assert telegram.fake.topics[thread]["closed"] is True

    await telegram.post(private_message(CUSTOMER, "operator please"))
    await telegram.fake.wait_for(lambda f: f.methods("reopenForumTopic"))
    await telegram.fake.wait_for(lambda f: f.methods("editForumTopic"))
    assert len(telegram.fake.methods("createForumTopic")) == 1
    assert telegram.fake.topics[thread]["closed"] is False
    assert telegram.fake.topics[thread]["name"].startswith("#2")
    await telegram.fake.wait_for(
        lambda f: any("Ticket #2" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
    )


async def test_a_rate_limited_send_is_delivered_once_after_the_wait(
    telegram: TelegramWorld,
) -> None:
    telegram.fake.fail("sendMessage", retry_after=1, chat_id=CUSTOMER)
    await telegram.post(private_message(CUSTOMER, "How do I reset my password?"))
    await telegram.fake.wait_for(lambda f: len(f.methods("sendMessage")) == 2, within=10)
    first, second = telegram.fake.methods("sendMessage")
    assert second.at - first.at >= 0.95
    await asyncio.sleep(SILENCE)
    assert [c.status for c in telegram.fake.sent(CUSTOMER)] == [429, 200]
    assert to_customer(telegram) == [sample_answer("password-reset", "en")]
    delivery = await models.Delivery.get()
    assert delivery.status is MessageStatus.SENT


async def test_a_blocked_bot_marks_the_reply_failed_and_tells_staff(
    telegram: TelegramWorld,
) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    telegram.fake.block(CUSTOMER)
    await telegram.post(agent_message("Are you still there?", thread_id=thread))
    await telegram.fake.wait_for(
        lambda f: any("Could not deliver" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
    )
    failed = await models.Message.get(text="Are you still there?")
    assert failed.status is MessageStatus.FAILED


async def test_a_long_reply_is_split_at_telegrams_limit(telegram: TelegramWorld) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    paragraph = "This is a sentence of a long explanation. " * 40
    long_text = "\n\n".join([paragraph.strip()] * 4)  # about 6,700 characters
    await telegram.post(agent_message(long_text, thread_id=thread))
    await telegram.fake.wait_for(lambda f: len(f.texts(CUSTOMER)) >= 3)
    parts = to_customer(telegram)[1:]
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts)
    assert "".join(parts).replace("Li\n", "", 1).replace("\n", "") == long_text.replace("\n", "")


def _posts_in(calls: list[Call], thread: int) -> list[Call]:
    return [c for c in calls if c.thread_id == thread]


@pytest.mark.parametrize("backlog", [6])
async def test_a_throttled_group_merges_posts_and_drops_none(
    telegram: TelegramWorld, backlog: int
) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    await telegram.fake.wait_for(lambda f: len(_posts_in(f.sent(AGENTS_CHAT), thread)) >= 2)
    telegram.fake.fail("sendMessage", retry_after=2, chat_id=AGENTS_CHAT)
    for n in range(backlog):
        await telegram.post(private_message(CUSTOMER, f"follow-up number {n}"))
    await telegram.fake.wait_for(
        lambda f: all(
            any(f"follow-up number {n}" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
            for n in range(backlog)
        ),
        within=15,
    )
    delivered = [
        c for c in _posts_in(telegram.fake.sent(AGENTS_CHAT), thread) if "follow-up" in c.text
    ]
    # One refused by the 429, then the waiting ones went out together.
    assert len(delivered) < backlog + 1
    for n in range(backlog):
        assert sum(f"follow-up number {n}" in c.text for c in delivered[1:]) == 1


async def test_an_agents_photo_reaches_the_telegram_customer(telegram: TelegramWorld) -> None:
    thread = await telegram.hand_off(CUSTOMER)
    photo = [{"file_id": "agent-photo", "file_unique_id": "a", "width": 640, "height": 480}]
    await telegram.post(agent_message(None, thread_id=thread, photo=photo, caption="Like this"))
    await telegram.fake.wait_for(lambda f: f.methods("sendPhoto"))
    sent = telegram.fake.methods("sendPhoto")[-1]
    assert (sent.chat_id, sent.params["photo"]) == (CUSTOMER, "agent-photo")
    assert "Like this" in to_customer(telegram)[-2]
