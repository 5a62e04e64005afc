"""Driving the agents' chat: customers hand off, staff type commands and read the answers."""

from __future__ import annotations

from typing import Any

from bot.texts import Text, render
from tests.conftest import TelegramWorld
from tests.fakes.telegram_api import Call, FakeTelegram
from tests.telegram_updates import ADMIN_ID, AGENT_ID, AGENTS_CHAT, agent_message, private_message

AGENT_NAME, AGENT_USERNAME = "Li", "li_support"
ADMIN_NAME, ADMIN_USERNAME = "Max", "max_admin"


ASK_FOR_PERSON = {
    "en": "I want to talk to a human",
    "ru": "Позовите оператора, пожалуйста",
    "zh": "我要人工客服",
    "de": "Ich möchte mit einem Mitarbeiter sprechen",
}


def summaries(fake: FakeTelegram) -> list[Call]:
    """Handoff summaries posted in the agents' chat, oldest first."""
    return [c for c in fake.sent(AGENTS_CHAT, ok_only=True) if c.text.startswith("🆘")]


async def hand_off(
    world: TelegramWorld, customer: int, *, name: str = "Anna", language: str = "en"
) -> int:
    """The customer asks for a person; returns the topic their ticket is posted in."""
    known = len(summaries(world.fake))
    notices = world.fake.texts(customer).count(render(Text.HANDOFF_NOTICE, language))
    update = private_message(customer, ASK_FOR_PERSON[language], first_name=name, language=language)
    await world.post(update)
    await world.fake.wait_for(lambda f: len(summaries(f)) > known)
    thread = summaries(world.fake)[known].thread_id
    assert thread is not None
    await world.fake.wait_for(
        lambda f: f.texts(customer).count(render(Text.HANDOFF_NOTICE, language)) > notices
    )
    return thread


def staff_update(text: str, *, thread: int | None, admin: bool = False) -> dict[str, Any]:
    if admin:
        return agent_message(
            text,
            thread_id=thread,
            agent_id=ADMIN_ID,
            first_name=ADMIN_NAME,
            username=ADMIN_USERNAME,
        )
    return agent_message(
        text, thread_id=thread, agent_id=AGENT_ID, first_name=AGENT_NAME, username=AGENT_USERNAME
    )


def answers(fake: FakeTelegram, message_id: int) -> list[str]:
    return [
        call.text
        for call in fake.sent(AGENTS_CHAT, ok_only=True)
        if (call.params.get("reply_parameters") or {}).get("message_id") == message_id
    ]


async def ask(
    world: TelegramWorld, text: str, *, thread: int | None = None, admin: bool = False
) -> str:
    """Type a command in the agents' chat (in a topic, or the general chat) and read the
    answer, which comes back in the same place."""
    update = staff_update(text, thread=thread, admin=admin)
    message_id = update["message"]["message_id"]
    response = await world.post(update)
    assert response.status == 200
    await world.fake.wait_for(lambda f: answers(f, message_id))
    [call] = [
        c
        for c in world.fake.sent(AGENTS_CHAT, ok_only=True)
        if (c.params.get("reply_parameters") or {}).get("message_id") == message_id
    ][:1]
    assert call.thread_id == thread
    return "\n".join(answers(world.fake, message_id))


async def posted_in_topic(world: TelegramWorld, thread: int, fragment: str) -> None:
    """Wait until the topic shows a post containing `fragment` (an activity, a mirror)."""
    await world.fake.wait_for(
        lambda f: any(fragment in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
    )
