"""The web widget end to end: a WebSocket in, answers and tickets out."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import aiohttp
import pytest

from bot.texts import Text, render
from bot.types import Direction, TicketStatus
from storage import models
from storage.tickets import list_tickets
from tests.conftest import LiveServer, SettingsFactory
from tests.widget_client import WidgetClient

SILENCE = 0.5


def sample_answer(faq_id: str, language: str) -> str:
    data = json.loads(resources.files("knowledge").joinpath("sample_faq.json").read_text("utf-8"))
    return str(
        next(e["answer"] for e in data["faq"] if e["id"] == faq_id and e["lang"] == language)
    )


async def test_faq_question_is_answered_in_the_customers_language(
    any_live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, any_live_server.ws_url, language="de-DE")
    ack = await visitor.say("Wie setze ich mein Passwort zurück?")
    assert ack["type"] == "ack" and ack["duplicate"] is False
    reply = await visitor.next_reply()
    assert reply["text"] == sample_answer("password-reset", "de")
    assert reply["sender"] == "bot"
    assert await list_tickets() == []


async def test_asking_for_a_person_opens_a_ticket_and_silences_the_bot(
    any_live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, any_live_server.ws_url, language="fr-FR")
    await visitor.say("Je veux parler à un conseiller")
    notice = await visitor.next_reply()
    assert notice["text"] == render(Text.HANDOFF_NOTICE, "fr")
    [ticket] = await list_tickets()
    assert ticket.status is TicketStatus.OPEN

    await visitor.say("Comment réinitialiser mon mot de passe ?")  # would be an FAQ hit
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(visitor.next_reply(), SILENCE)

    conversation_id = ticket.conversation_id
    await any_live_server.runtime.manager.send_as_agent(
        conversation_id, "Bonjour, je suis Anna.", agent_name="Anna"
    )
    reply = await visitor.next_reply()
    assert (reply["text"], reply["sender"], reply["author"]) == (
        "Bonjour, je suis Anna.",
        "agent",
        "Anna",
    )


async def test_a_question_without_an_answer_goes_to_the_team(
    any_live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, any_live_server.ws_url)
    await visitor.say("Can you recommend a good restaurant in Lisbon for tonight?")
    reply = await visitor.next_reply()
    assert reply["text"] == render(Text.NO_ANSWER_TICKET, "en")
    assert len(await list_tickets()) == 1


async def test_a_resent_message_is_stored_and_answered_once(
    any_live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, any_live_server.ws_url)
    first = await visitor.say("How do I reset my password?", client_id="retry-1")
    again = await visitor.say("How do I reset my password?", client_id="retry-1")
    assert (again["duplicate"], again["message_id"]) == (True, first["message_id"])
    await visitor.next_reply()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(visitor.next_reply(), SILENCE)
    incoming = await models.Message.filter(direction=Direction.INCOMING).count()
    outgoing = await models.Message.filter(direction=Direction.OUTGOING).count()
    assert (incoming, outgoing) == (1, 1)


async def test_the_history_comes_back_with_the_signed_token_only(
    any_live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, any_live_server.ws_url)
    await visitor.say("How do I reset my password?")
    await visitor.next_reply()
    await visitor.close()

    returning = await WidgetClient.connect(session, any_live_server.ws_url, token=visitor.token)
    assert returning.token == visitor.token
    texts = [(m["direction"], m["text"]) for m in returning.history]
    assert texts == [
        ("incoming", "How do I reset my password?"),
        ("outgoing", sample_answer("password-reset", "en")),
    ]

    forged = visitor.visitor_id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    stranger = await WidgetClient.connect(session, any_live_server.ws_url, token=forged)
    assert stranger.history == [] and stranger.visitor_id != visitor.visitor_id


async def test_another_tab_sees_the_customers_message_and_the_reply(
    live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    tab_one = await WidgetClient.connect(session, live_server.ws_url)
    tab_two = await WidgetClient.connect(session, live_server.ws_url, token=tab_one.token)
    await tab_one.say("Where is my order?")
    echo = await tab_two.next_frame("message")
    assert echo["message"]["text"] == "Where is my order?" and echo["client_id"]
    assert (await tab_one.next_reply())["text"] == (await tab_two.next_reply())["text"]


async def test_two_tabs_of_a_new_visitor_writing_at_once_make_one_customer(
    any_live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    tabs = [await WidgetClient.connect(session, any_live_server.ws_url)]
    for _ in range(5):
        tabs.append(
            await WidgetClient.connect(session, any_live_server.ws_url, token=tabs[0].token)
        )
    acks = await asyncio.gather(*(tab.say(f"Hello from tab {n}") for n, tab in enumerate(tabs)))
    assert not any(ack["duplicate"] for ack in acks)
    assert await models.Customer.all().count() == 1
    assert await models.Conversation.all().count() == 1
    [identity] = await models.ChannelIdentity.all()
    assert identity.external_user_id == tabs[0].visitor_id
    conversation = await models.Conversation.get(identity_id=identity.id)
    assert await models.Message.filter(conversation_id=conversation.id).count() >= 6


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"type": "subscribe"}', "unknown_type"),
        ('{"type": "message", "text": "no id"}', "bad_frame"),
        ('{"type": "message", "id": "x", "text": 42}', "bad_frame"),
        ('{"type": "message", "id": "has spaces", "text": "hi"}', "bad_frame"),
        ('{"type": "message", "id": "e1", "text": "   "}', "empty"),
        (json.dumps({"type": "message", "id": "big", "text": "x" * 4097}), "too_long"),
    ],
)
async def test_bad_frames_get_a_clear_error_and_the_socket_stays_usable(
    live_server: LiveServer, session: aiohttp.ClientSession, frame: str, code: str
) -> None:
    visitor = await WidgetClient.connect(session, live_server.ws_url)
    await visitor.ws.send_str(frame)
    error = await visitor.next_frame("error")
    assert error["code"] == code and error["message"]
    assert (await visitor.say("How do I reset my password?"))["type"] == "ack"
    assert (await visitor.next_reply())["text"] == sample_answer("password-reset", "en")
    assert await models.Message.filter(direction=Direction.INCOMING).count() == 1


async def test_binary_frames_and_messages_before_hello_are_refused(
    live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    ws = await session.ws_connect(live_server.ws_url)
    await ws.send_json({"type": "message", "id": "early", "text": "hello?"})
    assert (await ws.receive_json())["code"] == "hello_first"
    await ws.send_bytes(b"\x00\x01")
    assert (await ws.receive_json())["code"] == "bad_frame"
    await ws.send_json({"type": "ping"})
    assert (await ws.receive_json()) == {"type": "pong"}
    assert await models.Message.all().count() == 0


async def test_an_oversized_frame_is_refused_and_the_socket_stays_up(
    live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, live_server.ws_url)
    await visitor.ws.send_str("x" * (1024 * 1024))
    refused = await visitor.next_frame("error")
    assert refused["code"] == "too_large"
    assert (await visitor.say("How do I reset my password?"))["type"] == "ack"
    assert await models.Message.all().count() == 2  # the question and its answer


async def test_flooding_is_refused_politely(
    live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, live_server.ws_url)
    frames = [await visitor.say(f"message {n}") for n in range(31)]
    assert [frame["type"] for frame in frames[:30]] == ["ack"] * 30
    assert (frames[30]["type"], frames[30]["code"]) == ("error", "rate_limited")
    assert await models.Message.filter(direction=Direction.INCOMING).count() == 30


async def test_pages_from_other_sites_cannot_open_the_socket(
    live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(live_server.ws_url, origin="https://evil.example")
    assert refused.value.status == 403


async def test_configured_origins_may_embed_the_widget(
    make_settings: SettingsFactory, session: aiohttp.ClientSession
) -> None:
    from aiohttp.test_utils import TestServer

    from bot.app import create_app

    app = create_app(make_settings(widget_allowed_origins="https://shop.example"))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("/widget/ws"))
        ws = await session.ws_connect(url, origin="https://shop.example")
        await ws.send_json({"type": "ping"})
        assert await ws.receive_json() == {"type": "pong"}
        await ws.close()
        page = await session.get(str(server.make_url("/widget.js")))
        assert page.status == 200 and "javascript" in page.content_type
    finally:
        await server.close()
