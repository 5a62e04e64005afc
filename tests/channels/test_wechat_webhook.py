"""WeChat pushes end to end: signed (and encrypted) XML in, passive XML replies out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from importlib import resources

import pytest

from bot.texts import Text, render
from bot.types import AttachmentKind, ChannelKind, Direction
from channels.wechat.codec import sign
from storage import models
from tests.conftest import SettingsFactory
from tests.fakes.wechat_api import ACCOUNT, TOKEN, WeChatPush, WeChatWorld, wechat_world
from tests.waiting import eventually

PASSWORD_QUESTION = "如何重置密码？"


def sample_answer(faq_id: str, language: str) -> str:
    data = json.loads(resources.files("knowledge").joinpath("sample_faq.json").read_text("utf-8"))
    return str(
        next(e["answer"] for e in data["faq"] if e["id"] == faq_id and e["lang"] == language)
    )


@pytest.fixture(params=["plain", "safe", "compatible"])
async def any_mode(
    request: pytest.FixtureRequest, make_settings: SettingsFactory
) -> AsyncIterator[WeChatWorld]:
    """Plaintext, safe (encrypted) and compatible mode: WeChat's three message modes."""
    async with wechat_world(make_settings, mode=request.param) as world:
        yield world


@pytest.fixture
async def wechat(make_settings: SettingsFactory) -> AsyncIterator[WeChatWorld]:
    async with wechat_world(make_settings, mode="safe") as world:
        yield world


@pytest.fixture(params=["sqlite", "postgres"])
async def wechat_any_db(
    request: pytest.FixtureRequest, make_settings: SettingsFactory
) -> AsyncIterator[WeChatWorld]:
    """Deduplication rests on the database's unique index: checked on both databases."""
    overrides = {}
    if request.param == "postgres":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    async with wechat_world(make_settings, mode="safe", **overrides) as world:
        yield world


async def inbound_messages(openid: str) -> list[models.Message]:
    return (
        await models.Message.filter(
            channel=ChannelKind.WECHAT,
            direction=Direction.INCOMING,
            conversation__identity__external_user_id=openid,
        )
        .prefetch_related("attachments")
        .order_by("id")
    )


async def test_url_verification_echoes_echostr_only_when_signed(wechat: WeChatWorld) -> None:
    assert await wechat.push.verify_url("echo-123") == (200, "echo-123")
    status, _ = await wechat.push.verify_url("echo-123", forge=True)
    assert status == 403


async def test_faq_question_is_answered_in_the_passive_reply(any_mode: WeChatWorld) -> None:
    status, body = await any_mode.push.post(WeChatPush.text("oUser1", PASSWORD_QUESTION, 1001))
    assert status == 200
    reply = any_mode.push.reply_fields(body)
    assert reply["MsgType"] == "text"
    assert reply["ToUserName"] == "oUser1" and reply["FromUserName"] == ACCOUNT
    assert reply["Content"] == sample_answer("password-reset", "zh")
    assert any_mode.api.sent == []  # nothing went through the customer-service API
    [stored] = await inbound_messages("oUser1")
    assert stored.text == PASSWORD_QUESTION and stored.source_message_id == "oUser1:1001"


@pytest.mark.parametrize("forge", ["signature", "msg_signature"])
async def test_forged_signatures_are_refused_and_nothing_is_stored(
    wechat: WeChatWorld, forge: str
) -> None:
    status, _ = await wechat.push.post(WeChatPush.text("oForger", "hello", 2001), forge=forge)
    assert status == 403
    assert await inbound_messages("oForger") == []


async def test_a_plaintext_forged_signature_is_refused(
    make_settings: SettingsFactory,
) -> None:
    async with wechat_world(make_settings, mode="plain") as world:
        status, _ = await world.push.post(WeChatPush.text("oForger", "hi", 1), forge="signature")
        assert status == 403
        assert await inbound_messages("oForger") == []


async def test_concurrent_redeliveries_are_answered_once(wechat_any_db: WeChatWorld) -> None:
    xml = WeChatPush.text("oUser2", PASSWORD_QUESTION, 3001)
    answers = await asyncio.gather(*(wechat_any_db.push.post(xml) for _ in range(3)))
    assert [status for status, _ in answers] == [200, 200, 200]
    replies = [body for _, body in answers if body != "success"]
    assert len(replies) == 1
    answer = sample_answer("password-reset", "zh")
    assert wechat_any_db.push.reply_fields(replies[0])["Content"] == answer
    assert len(await inbound_messages("oUser2")) == 1
    await asyncio.sleep(0.3)  # nothing else may follow through the API
    assert wechat_any_db.api.sent == []


async def test_sequential_redeliveries_get_success_and_no_second_answer(
    wechat_any_db: WeChatWorld,
) -> None:
    xml = WeChatPush.text("oUser3", PASSWORD_QUESTION, 3002)
    _, first = await wechat_any_db.push.post(xml)
    answer = sample_answer("password-reset", "zh")
    assert wechat_any_db.push.reply_fields(first)["Content"] == answer
    assert await wechat_any_db.push.post(xml) == (200, "success")
    assert await wechat_any_db.push.post(xml) == (200, "success")
    await asyncio.sleep(0.3)
    assert wechat_any_db.api.sent == []
    assert len(await inbound_messages("oUser3")) == 1
    outgoing = await models.Message.filter(
        channel=ChannelKind.WECHAT, direction=Direction.OUTGOING
    ).count()
    assert outgoing == 1


async def test_the_same_msgid_from_two_customers_is_two_messages(wechat: WeChatWorld) -> None:
    _, first = await wechat.push.post(WeChatPush.text("oAlice", PASSWORD_QUESTION, 777))
    _, second = await wechat.push.post(WeChatPush.text("oBob", PASSWORD_QUESTION, 777))
    assert wechat.push.reply_fields(first)["ToUserName"] == "oAlice"
    assert wechat.push.reply_fields(second)["ToUserName"] == "oBob"
    assert len(await inbound_messages("oAlice")) == len(await inbound_messages("oBob")) == 1


async def test_subscribe_greets_in_the_language_of_the_customers_wechat(
    wechat: WeChatWorld,
) -> None:
    wechat.api.languages["oGerman"] = "de"
    xml = WeChatPush.event("oGerman", "subscribe", create_time=1_700_000_000)
    status, body = await wechat.push.post(xml)
    assert status == 200
    greeting = render(Text.GREETING, "de", company="Helpline")
    assert wechat.push.reply_fields(body)["Content"] == greeting
    # A redelivered event is acknowledged without a second greeting.
    assert await wechat.push.post(xml) == (200, "success")
    assert wechat.api.info_calls == 1


async def test_subscribing_by_qr_code_greets_too(wechat: WeChatWorld) -> None:
    wechat.api.languages["oScanner"] = "ru_RU"
    xml = WeChatPush.event("oScanner", "subscribe", create_time=5, EventKey="qrscene_42")
    _, body = await wechat.push.post(xml)
    greeting = render(Text.GREETING, "ru", company="Helpline")
    assert wechat.push.reply_fields(body)["Content"] == greeting


async def test_subscribe_in_an_unserved_language_greets_in_the_default(
    wechat: WeChatWorld,
) -> None:
    wechat.api.languages["oThai"] = "th"
    _, body = await wechat.push.post(WeChatPush.event("oThai", "subscribe", create_time=1))
    assert wechat.push.reply_fields(body)["Content"] == render(
        Text.GREETING, "en", company="Helpline"
    )


async def test_unsubscribe_and_unknown_kinds_are_acknowledged(wechat: WeChatWorld) -> None:
    unsubscribe = WeChatPush.event("oLeaving", "unsubscribe", create_time=2)
    assert await wechat.push.post(unsubscribe) == (200, "success")
    click = WeChatPush.event("oLeaving", "CLICK", create_time=3, EventKey="menu_1")
    assert await wechat.push.post(click) == (200, "success")
    unknown = WeChatPush.message("oLeaving", "hologram", 4001, Payload="?")
    assert await wechat.push.post(unknown) == (200, "success")
    assert await inbound_messages("oLeaving") == []


async def test_image_voice_location_and_link_are_stored_as_attachments(
    wechat: WeChatWorld,
) -> None:
    push = WeChatPush
    pushes = [
        push.message("oMedia", "image", 5001, PicUrl="http://mmbiz.example/p.jpg", MediaId="IMG1"),
        push.message(
            "oMedia", "voice", 5002, MediaId="VOICE1", Format="amr", Recognition=PASSWORD_QUESTION
        ),
        push.message(
            "oMedia",
            "location",
            5003,
            Location_X=23.134521,
            Location_Y=113.358803,
            Scale=20,
            Label="广州市天河区",
        ),
        push.message(
            "oMedia", "link", 5004, Title="Order", Description="my order", Url="https://x.test/o"
        ),
    ]
    answers = await asyncio.gather(*(wechat.push.post(xml) for xml in pushes))
    assert {status for status, _ in answers} == {200}
    stored = {m.source_message_id: m for m in await inbound_messages("oMedia")}
    image, voice, location, link = (stored[f"oMedia:{n}"] for n in (5001, 5002, 5003, 5004))
    [picture] = image.attachments
    assert (picture.kind, picture.reference) == (AttachmentKind.IMAGE, "IMG1")
    assert picture.meta["url"] == "http://mmbiz.example/p.jpg"
    [audio] = voice.attachments
    assert (audio.kind, audio.reference, audio.mime_type) == (
        AttachmentKind.AUDIO,
        "VOICE1",
        "audio/amr",
    )
    assert audio.meta["recognition"] == PASSWORD_QUESTION
    assert voice.text == PASSWORD_QUESTION
    [place] = location.attachments
    assert place.kind is AttachmentKind.LOCATION and location.text == ""
    assert place.meta["latitude"] == pytest.approx(23.134521)
    assert place.meta["longitude"] == pytest.approx(113.358803)
    assert place.meta["label"] == "广州市天河区"
    [url] = link.attachments
    assert (url.kind, url.reference, url.name) == (AttachmentKind.LINK, "https://x.test/o", "Order")


async def test_recognised_speech_is_answered_like_a_typed_question(wechat: WeChatWorld) -> None:
    voice = WeChatPush.message(
        "oSpeaker", "voice", 5101, MediaId="V2", Format="speex", Recognition=PASSWORD_QUESTION
    )
    _, body = await wechat.push.post(voice)
    assert wechat.push.reply_fields(body)["Content"] == sample_answer("password-reset", "zh")
    [stored] = await inbound_messages("oSpeaker")
    assert stored.attachments[0].mime_type == "audio/speex"


async def test_an_image_without_text_is_passed_to_people(wechat: WeChatWorld) -> None:
    _, body = await wechat.push.post(
        WeChatPush.message("oPhoto", "image", 6001, PicUrl="http://p.test/1.jpg", MediaId="M1")
    )
    # No language to go by yet: the default language.
    assert wechat.push.reply_fields(body)["Content"] == render(Text.ATTACHMENT_TEXT_ONLY, "en")


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><ToUserName>broken",
        b"not xml at all",
        b"",
        b"<xml><MsgType><![CDATA[text]]></MsgType></xml>",
        b"<other><FromUserName>o</FromUserName></other>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName></xml>',
        b"\xff\xfe\x00<",
    ],
)
async def test_broken_bodies_get_400_and_the_server_stays_up(
    wechat: WeChatWorld, body: bytes
) -> None:
    status, _ = await wechat.push.raw_post(body)
    assert status == 400
    status, reply = await wechat.push.post(WeChatPush.text("oAfter", PASSWORD_QUESTION, 7001))
    assert status == 200 and wechat.push.reply_fields(reply)["Content"]


@pytest.mark.parametrize("secret", ["bm90IGFlcw==", "%%%not-base64%%%", "A" * 64])
async def test_a_correctly_signed_but_undecryptable_payload_gets_400(
    wechat: WeChatWorld, secret: str
) -> None:
    timestamp, nonce = "1700000000", "nonce1"
    query = {
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": sign(TOKEN, timestamp, nonce),
        "encrypt_type": "aes",
        "msg_signature": sign(TOKEN, timestamp, nonce, secret),
    }
    body = f"<xml><Encrypt><![CDATA[{secret}]]></Encrypt></xml>".encode()
    status, reason = await wechat.push.raw_post(body, query)
    assert (status, reason) == (400, "cannot decrypt the message")


async def test_an_encrypted_push_without_an_aes_key_is_refused(
    make_settings: SettingsFactory,
) -> None:
    async with wechat_world(make_settings, mode="plain") as world:
        world.push.mode = "safe"
        status, reason = await world.push.post(WeChatPush.text("oSecret", "hi", 1))
        assert (status, reason) == (400, "encrypted message, but no AES key is configured")


async def test_a_message_over_the_length_limit_is_refused_politely(
    wechat: WeChatWorld,
) -> None:
    _, body = await wechat.push.post(WeChatPush.text("oVerbose", "话" * 4097, 9001))
    refusal = render(Text.MESSAGE_TOO_LONG, "en", limit=4096)
    assert wechat.push.reply_fields(body)["Content"] == refusal
    assert await inbound_messages("oVerbose") == []


async def test_shutdown_answers_waiting_pushes_at_once(make_settings: SettingsFactory) -> None:
    async with wechat_world(make_settings, mode="safe", wechat_reply_budget=4.5) as world:
        await world.push.post(WeChatPush.text("oLast", "转人工", 1))  # the bot goes quiet
        loop = asyncio.get_running_loop()
        started = loop.time()
        waiting = asyncio.create_task(world.push.post(WeChatPush.text("oLast", "在吗", 2)))

        async def stored() -> bool:
            return len(await inbound_messages("oLast")) == 2

        await eventually(stored)
        await world.server.close()
        assert await waiting == (200, "success")
        assert loop.time() - started < 4.5  # released by the shutdown, not by the budget


async def test_an_oversized_chunked_body_gets_400(wechat: WeChatWorld) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"<xml>" + b"x" * 4096

    _, query = wechat.push.signed(WeChatPush.text("oChunked", "hi", 1))
    async with wechat.push.session.post(wechat.push.url, params=query, data=chunks()) as response:
        assert response.status == 400 and "larger" in await response.text()
    assert await inbound_messages("oChunked") == []


async def test_an_oversized_body_gets_400_and_the_server_stays_up(wechat: WeChatWorld) -> None:
    huge = WeChatPush.text("oHuge", "长" * 100_000, 8001).encode()
    status, reason = await wechat.push.raw_post(huge)
    assert status == 400 and "larger" in reason
    async with wechat.push.session.get(wechat.url + "/healthz") as response:
        assert response.status == 200
    assert await inbound_messages("oHuge") == []
