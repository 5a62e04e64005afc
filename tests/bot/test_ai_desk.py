"""AI answers that go through people: drafts in the agents' chat, and translation both ways."""

from __future__ import annotations

import pytest

from bot.texts import Text, render
from bot.types import AutomationLevel, MessageStatus, TicketStatus
from storage import models
from storage.tickets import list_tickets
from tests.ai_world import AIWorld, ai_world, target_language, translating
from tests.conftest import WEBHOOK_SECRET, SettingsFactory
from tests.fakes.anthropic_api import Answer, Script, ToolUse, mentions
from tests.telegram_updates import AGENTS_CHAT, agent_message, button_press
from tests.widget_client import WidgetClient

SAFE = ToolUse("mark_answer_as_safe", {"category": "password_reset"})


def safe_script() -> Script:
    return (
        Script()
        .on(
            mentions("passwort", "password"),
            Answer(tool_calls=(SAFE,)),
            Answer("Tap 'Forgot password' in the app and follow the email."),
        )
        .on(mentions("discount"), Answer("You get 10% off your next order with code HELLO10."))
    )


async def post(world: AIWorld, update: dict[str, object]) -> None:
    async with world.session.post(
        f"{world.server.url}/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
    ) as response:
        assert response.status == 200


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_safe_mode_sends_a_marked_password_answer_and_drafts_a_discount(
    make_settings: SettingsFactory, provider: str
) -> None:
    async with ai_world(
        make_settings, provider, safe_script(), desk=True, ai_auto_send="safe"
    ) as world:
        assert world.telegram is not None
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("The app won't take my password anymore, what now?")
        sent = await visitor.next_reply()
        assert sent["text"] == "Tap 'Forgot password' in the app and follow the email."

        await visitor.say("Could I get a discount on my next order please?")
        pending = await visitor.next_reply()
        assert pending["text"] == render(Text.DRAFT_PENDING, "en")
        await world.telegram.wait_for(lambda f: any("AI draft" in t for t in f.texts(AGENTS_CHAT)))
        draft_post = next(c for c in world.telegram.sent(AGENTS_CHAT) if "AI draft" in c.text)
        assert "HELLO10" in draft_post.text
        actions = [b["callback_data"] for b in draft_post.buttons]
        assert [a.split()[1] for a in actions] == ["send", "edit", "discard"]
        draft = await models.Message.get(status=MessageStatus.DRAFT)
        assert draft.text == "You get 10% off your next order with code HELLO10."

        await post(
            world,
            button_press(
                actions[0], from_id=7002, chat_id=AGENTS_CHAT, thread_id=draft_post.thread_id
            ),
        )
        approved = await visitor.next_reply()
        assert approved["text"] == "You get 10% off your next order with code HELLO10."
        [ticket] = await list_tickets(active_only=False)
        assert ticket.status is TicketStatus.RESOLVED
        assert ticket.automation_level is AutomationLevel.AI_ASSISTED


async def test_never_mode_makes_every_answer_a_draft_and_edit_hands_it_back(
    make_settings: SettingsFactory,
) -> None:
    async with ai_world(
        make_settings, "anthropic", safe_script(), desk=True, ai_auto_send="never"
    ) as world:
        assert world.telegram is not None
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("The app won't take my password anymore, what now?")
        assert (await visitor.next_reply())["text"] == render(Text.DRAFT_PENDING, "en")
        await world.telegram.wait_for(lambda f: any("AI draft" in t for t in f.texts(AGENTS_CHAT)))
        draft_post = next(c for c in world.telegram.sent(AGENTS_CHAT) if "AI draft" in c.text)
        thread = draft_post.thread_id
        edit = next(b["callback_data"] for b in draft_post.buttons if "edit" in b["callback_data"])
        await post(world, button_press(edit, from_id=7002, chat_id=AGENTS_CHAT, thread_id=thread))
        await world.telegram.wait_for(
            lambda f: any(
                "Change it and send it" in t for t in f.texts(AGENTS_CHAT, thread_id=thread)
            )
        )
        assert (await models.Message.get(text__startswith="Tap")).status is MessageStatus.DISCARDED
        await post(
            world,
            agent_message("Tap 'Forgot password', then check your spam folder.", thread_id=thread),
        )
        reply = await visitor.next_reply()
        assert reply["text"] == "Tap 'Forgot password', then check your spam folder."
        assert reply["sender"] == "agent"


def translating_script() -> Script:
    return Script().rule(
        lambda call: (
            Answer(f"<{target_language(call)}> {call.question}")
            if translating(call)
            else Answer(tool_calls=(ToolUse("handoff_to_human", {"reason": "needs a person"}),))
            if call.round == 0
            else Answer("Ein Kollege hilft Ihnen gleich.")
        )
    )


async def test_agents_read_and_write_in_their_own_language(
    make_settings: SettingsFactory,
) -> None:
    async with ai_world(make_settings, "openai", translating_script(), desk=True) as world:
        assert world.telegram is not None
        visitor = await WidgetClient.connect(world.session, world.server.ws_url, language="de")
        await visitor.say("Kann ich bei Ihnen Möbel auch mieten statt kaufen?")
        assert (await visitor.next_reply())["text"] == "Ein Kollege hilft Ihnen gleich."
        await world.telegram.wait_for(lambda f: f.methods("createForumTopic"))
        thread = next(iter(world.telegram.topics))
        await world.telegram.wait_for(
            lambda f: any(
                "<en> Kann ich bei Ihnen Möbel auch mieten" in t
                for t in f.texts(AGENTS_CHAT, thread_id=thread)
            )
        )

        await post(world, agent_message("Sorry about that! Please send a photo.", thread_id=thread))
        reply = await visitor.next_reply()
        assert reply["text"] == "<de> Sorry about that! Please send a photo."
        stored = await models.Message.get(text="<de> Sorry about that! Please send a photo.")
        assert stored.original_text == "Sorry about that! Please send a photo."
        assert stored.ai_input_tokens


async def test_drafts_need_an_agents_chat(make_settings: SettingsFactory) -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        make_settings(ai_auto_send="safe")
    assert "HELPLINE_TELEGRAM_AGENT_CHAT_ID" in str(raised.value)
