"""The WeChat channel's parts on their own: text splitting, translation, settings, tokens."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from wechatpy import parse_message

from bot.config import load_settings
from bot.errors import ConfigError
from bot.types import AttachmentKind, Button, OutboundReply, SenderKind
from channels.wechat import WeChatConfig
from channels.wechat.api import WeChatAPIError, delivery_failure
from channels.wechat.inbound import to_inbound
from channels.wechat.outbound import MAX_TEXT_BYTES, compose, split_text
from channels.wechat.tokens import AccessTokens, TokenUnavailable
from storage.shared_values import SharedValues
from tests.conftest import LiveServer, SettingsFactory
from tests.fakes.wechat_api import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN,
    FakeWeChatAPI,
    WeChatPush,
    wechat_world,
)
from tests.waiting import eventually


@pytest.mark.parametrize(
    ("errcode", "permanent", "retry_after", "says"),
    [
        (45015, True, None, "48-hour"),
        (45047, True, None, "quota"),
        (45009, False, 3600.0, "daily"),
        (45011, False, 60.0, "minute"),
        (40164, False, None, "whitelist"),
        (-1, False, None, "busy"),
        (None, False, None, "not reachable"),
        (99999, False, None, "99999"),
    ],
)
def test_wechat_errors_tell_the_outbox_what_to_do(
    errcode: int | None, permanent: bool, retry_after: float | None, says: str
) -> None:
    failure = delivery_failure(WeChatAPIError(errcode, "detail"))
    assert (failure.permanent, failure.retry_after) == (permanent, retry_after)
    assert says in failure.reason


def test_short_text_is_one_part() -> None:
    assert split_text("您好") == ["您好"]


def test_long_chinese_text_is_split_at_sentence_ends_within_the_byte_limit() -> None:
    text = "这是一个很长的回答。" * 300  # 30 bytes a sentence, 9000 bytes
    parts = split_text(text)
    assert len(parts) == 5
    assert all(len(part.encode()) <= MAX_TEXT_BYTES for part in parts)
    assert all(part.endswith("。") for part in parts)
    assert "".join(parts) == text


def test_paragraphs_are_preferred_and_no_character_is_cut() -> None:
    text = ("😀" * 300) + "\n\n" + ("😀" * 600)  # emoji are 4 bytes
    parts = split_text(text)
    assert parts[0] == "😀" * 300
    assert all(len(part.encode()) <= MAX_TEXT_BYTES for part in parts)
    assert "".join(parts) == text.replace("\n\n", "")


def test_text_without_breaks_is_cut_at_a_character_boundary() -> None:
    parts = split_text("字" * 1000, limit=100)
    assert all(len(part.encode()) <= 100 for part in parts)
    assert "".join(parts) == "字" * 1000


def test_agent_replies_carry_the_agents_name_and_buttons_become_numbered_lines() -> None:
    reply = OutboundReply(
        "请选择：",
        sender_kind=SenderKind.AGENT,
        author_name="Li",
        buttons=(Button("退款", "refund"), Button("换货", "exchange")),
    )
    assert compose(reply) == "Li: 请选择：\n\n1. 退款\n2. 换货"
    assert compose(OutboundReply("机器人回答")) == "机器人回答"


def test_msgid_is_keyed_with_the_sender() -> None:
    inbound = to_inbound(parse_message(WeChatPush.text("oUserA", "hi", 42)))
    assert inbound is not None
    assert inbound.source_message_id == "oUserA:42"
    assert (inbound.external_user_id, inbound.chat_id) == ("oUserA", "oUserA")


@pytest.mark.parametrize(("x", "y"), [("abc", "1"), ("91", "0"), ("0", "181"), ("nan", "1")])
def test_a_location_with_impossible_coordinates_is_not_a_location(x: str, y: str) -> None:
    xml = WeChatPush.message("oUserA", "location", 1, Location_X=x, Location_Y=y, Label="?")
    assert to_inbound(parse_message(xml)) is None


def test_a_video_is_stored_with_its_thumbnail() -> None:
    xml = WeChatPush.message("oUserA", "shortvideo", 7, MediaId="V1", ThumbMediaId="T1")
    inbound = to_inbound(parse_message(xml))
    assert inbound is not None
    [video] = inbound.attachments
    assert (video.kind, video.reference, video.meta["thumb_media_id"]) == (
        AttachmentKind.VIDEO,
        "V1",
        "T1",
    )


def test_partial_wechat_settings_fail_naming_every_missing_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(wechat_token=TOKEN)
    problems = "\n".join(caught.value.problems)
    assert "HELPLINE_WECHAT_APP_ID" in problems and "HELPLINE_WECHAT_APP_SECRET" in problems
    assert "HELPLINE_WECHAT_TOKEN" not in problems.split("set", 1)[1]


def test_wechat_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("HELPLINE_WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("HELPLINE_WECHAT_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("HELPLINE_WECHAT_AES_KEY", AES_KEY)
    monkeypatch.setenv("HELPLINE_WECHAT_API_URL", "http://127.0.0.1:9/")
    settings = load_settings()
    assert settings.wechat_configured
    assert settings.wechat_api_url == "http://127.0.0.1:9"
    assert APP_SECRET not in repr(settings) and AES_KEY not in repr(settings)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("wechat_aes_key", "too-short"),
        ("wechat_aes_key", "!" * 43),
        ("wechat_token", "no spaces allowed"),
        ("wechat_app_id", "1234"),
        ("wechat_api_url", "ftp://example.test"),
    ],
)
def test_malformed_wechat_settings_are_refused_without_showing_them(key: str, value: str) -> None:
    values = {"wechat_token": TOKEN, "wechat_app_id": APP_ID, "wechat_app_secret": APP_SECRET}
    values[key] = value
    with pytest.raises(ConfigError) as caught:
        load_settings(**values)
    assert f"HELPLINE_{key.upper()}" in str(caught.value)
    assert value not in str(caught.value)


def test_blank_wechat_values_mean_unset() -> None:
    assert not load_settings(wechat_token="", wechat_aes_key=" ").wechat_configured


def test_the_adapter_config_does_not_print_its_secrets() -> None:
    config = WeChatConfig(token=TOKEN, app_id=APP_ID, app_secret=APP_SECRET, aes_key=AES_KEY)
    assert APP_SECRET not in repr(config) and AES_KEY not in repr(config)
    assert TOKEN not in repr(config) and APP_ID in repr(config)


async def test_without_wechat_settings_there_is_no_wechat_endpoint(
    live_server: LiveServer,
) -> None:
    async with aiohttp.ClientSession() as session, session.get(live_server.url + "/wechat") as r:
        assert r.status == 404


class CountingFetch:
    def __init__(self, *, seconds: float = 0.2, fail: bool = False) -> None:
        self.calls = 0
        self.seconds = seconds
        self.fail = fail

    async def __call__(self) -> tuple[str, int]:
        self.calls += 1
        await asyncio.sleep(self.seconds)
        if self.fail:
            raise ConnectionError("token endpoint down")
        return f"TOKEN-{self.calls}", 7200


async def test_two_processes_share_one_token_fetch(any_live_server: LiveServer) -> None:
    fetch = CountingFetch()
    first = AccessTokens(SharedValues(), fetch, key="test_token", owner="process-a")
    second = AccessTokens(SharedValues(), fetch, key="test_token", owner="process-b")
    tokens = await asyncio.gather(*(side.get() for side in (first, second) for _ in range(3)))
    assert set(tokens) == {"TOKEN-1"} and fetch.calls == 1
    # One process was told the token is rejected: it refreshes, the other then follows.
    assert await second.get(rejected="TOKEN-1") == "TOKEN-2"
    assert await first.get(rejected="TOKEN-1") == "TOKEN-2"
    assert fetch.calls == 2


async def test_an_expiring_token_is_refetched_before_it_expires(live_server: LiveServer) -> None:
    store = SharedValues()
    stale = datetime.now(UTC) + timedelta(seconds=-1)
    await store.write("test_token", "OLD", expires_at=stale, owner="nobody")
    fetch = CountingFetch(seconds=0)
    assert await AccessTokens(store, fetch, key="test_token", owner="p").get() == "TOKEN-1"
    stored = await store.read("test_token")
    assert stored is not None and stored.expires_at > datetime.now(UTC) + timedelta(minutes=110)


async def test_a_crashed_refresher_is_taken_over_once_its_lease_runs_out(
    any_live_server: LiveServer,
) -> None:
    store = SharedValues()
    assert await store.try_lease("test_token", owner="crashed", seconds=0.3)
    fetch = CountingFetch(seconds=0)
    tokens = AccessTokens(store, fetch, key="test_token", owner="survivor", lease_seconds=0.3)
    assert await tokens.get() == "TOKEN-1"
    assert await store.try_lease("test_token", owner="next", seconds=1)  # released after use


async def test_a_refresher_waits_no_longer_than_twice_the_lease(live_server: LiveServer) -> None:
    store = SharedValues()
    assert await store.try_lease("test_token", owner="slow", seconds=30)
    tokens = AccessTokens(store, CountingFetch(), key="test_token", owner="me", lease_seconds=0.2)
    with pytest.raises(TokenUnavailable):
        await tokens.get()


async def test_a_failed_fetch_releases_the_lease_and_pauses_refetching(
    live_server: LiveServer,
) -> None:
    store = SharedValues()
    fetch = CountingFetch(fail=True, seconds=0)
    failing = AccessTokens(store, fetch, key="test_token", owner="a", failure_pause=0.3)
    with pytest.raises(ConnectionError):
        await failing.get()
    assert await store.try_lease("test_token", owner="b", seconds=0.01)
    with pytest.raises(ConnectionError):  # the same answer, without asking WeChat again
        await failing.get()
    assert fetch.calls == 1
    await asyncio.sleep(0.3)
    fetch.fail = False
    assert await failing.get() == "TOKEN-2"


async def test_the_access_token_is_fetched_at_start(make_settings: SettingsFactory) -> None:
    async with wechat_world(make_settings) as world:
        await world.api_wait(lambda api: api.token_calls == 1)


async def test_a_wrong_app_secret_is_reported_at_start(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeWeChatAPI(app_secret="reset-in-the-console")

    async def reported() -> bool:
        return any(r.levelno >= logging.ERROR for r in caplog.records)

    with caplog.at_level(logging.ERROR, logger="channels.wechat"):
        async with wechat_world(make_settings, api=api):
            await eventually(reported)
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "HELPLINE_WECHAT_APP_SECRET" in record.getMessage()
    assert APP_SECRET not in record.getMessage()
