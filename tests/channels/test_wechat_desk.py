"""WeChat customers with the rest of Helpline: the Telegram agents' chat and a slow model."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from bot.types import Direction, MessageStatus, StaffEvent
from channels.wechat.api import VIDEO_BYTES
from storage import models
from tests.ai_world import provider_settings
from tests.conftest import WEBHOOK_SECRET, SettingsFactory, telegram_overrides
from tests.fakes.anthropic_api import Answer, FakeAnthropicAPI, Script
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_api import running as running_telegram
from tests.fakes.wechat_api import WeChatPush, WeChatWorld, wechat_world
from tests.telegram_updates import AGENTS_CHAT, agent_message

CUSTOMER = "oWeChatCustomer01"
_ids = itertools.count(9_000_000)


@dataclass
class Desk:
    wechat: WeChatWorld
    telegram: FakeTelegram
    session: aiohttp.ClientSession

    async def agent_says(self, text: str, thread: int) -> None:
        async with self.session.post(
            f"{self.wechat.url}/telegram/webhook",
            json=agent_message(text, thread_id=thread),
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        ) as response:
            assert response.status == 200

    async def customer_says(self, text: str) -> tuple[int, str]:
        return await self.wechat.push.post(WeChatPush.text(CUSTOMER, text, next(_ids)))

    async def customer_sends(self, msg_type: str, **fields: object) -> None:
        """A media message (image, video, ...) from the customer, accepted by Helpline."""
        push = WeChatPush.message(CUSTOMER, msg_type, next(_ids), **fields)
        status, _ = await self.wechat.push.post(push)
        assert status == 200

    async def topic(self) -> int:
        await self.telegram.wait_for(lambda f: f.methods("createForumTopic"))
        return int(next(iter(self.telegram.topics)))

    async def named_in_topic(self, thread: int, name: str) -> None:
        await self.telegram.wait_for(
            lambda f: any(name in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
        )


@asynccontextmanager
async def desk(make_settings: SettingsFactory) -> AsyncIterator[Desk]:
    async with (
        running_telegram() as (telegram, api_url),
        aiohttp.ClientSession() as session,
        wechat_world(make_settings, mode="safe", **telegram_overrides(api_url)) as wechat,
    ):
        yield Desk(wechat, telegram, session)


async def test_a_wechat_customer_is_handed_to_a_topic_and_gets_the_agents_reply(
    make_settings: SettingsFactory,
) -> None:
    async with desk(make_settings) as world:
        status, body = await world.customer_says("我要人工客服")
        assert status == 200 and "人工" in world.wechat.push.reply_fields(body)["Content"]
        thread = await world.topic()
        assert world.telegram.methods("createForumTopic")[0].params["name"].endswith("· wechat")
        await world.telegram.wait_for(
            lambda f: any("我要人工客服" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
        )

        await world.agent_says("您好，我是小李，请问订单号是多少？", thread)
        await world.wechat.api_wait(lambda api: api.texts_to(CUSTOMER))
        assert world.wechat.api.texts_to(CUSTOMER) == ["Li: 您好，我是小李，请问订单号是多少？"]


async def test_the_48_hour_window_error_is_reported_in_the_topic(
    make_settings: SettingsFactory,
) -> None:
    async with desk(make_settings) as world:
        await world.customer_says("人工")
        thread = await world.topic()
        world.wechat.api.fail_next(45015, openid=CUSTOMER)
        await world.agent_says("Are you still there?", thread)
        await world.telegram.wait_for(
            lambda f: any(
                "Could not deliver" in t and "48 hours" in t
                for t in f.texts(AGENTS_CHAT, thread_id=thread)
            ),
            within=15,
        )
        failed = await models.Message.get(text="Are you still there?")
        assert failed.status is MessageStatus.FAILED
        assert len(world.wechat.api.attempts) == 1  # not retried


async def test_an_unfollow_is_kept_and_shown_to_the_team(make_settings: SettingsFactory) -> None:
    async with desk(make_settings) as world:
        await world.customer_says("人工")
        thread = await world.topic()
        xml = WeChatPush.event(CUSTOMER, "unsubscribe", create_time=1_700_000_500)
        assert await world.wechat.push.post(xml) == (200, "success")
        await world.telegram.wait_for(
            lambda f: any("unfollowed" in t for t in f.texts(AGENTS_CHAT, thread_id=thread))
        )
        kept = await models.Message.get(event=StaffEvent.UNSUBSCRIBED.value)
        assert kept.direction is Direction.ACTIVITY


async def test_a_slow_model_answer_arrives_through_the_api(make_settings: SettingsFactory) -> None:
    script = Script(default=lambda call: Answer("我们的门店周日营业到下午五点。", delay=2.5))
    async with FakeAnthropicAPI.running(script=script) as llm:
        overrides = provider_settings("anthropic", llm)
        async with wechat_world(make_settings, mode="safe", **overrides) as world:
            started = asyncio.get_running_loop().time()
            status, body = await world.push.post(WeChatPush.text(CUSTOMER, "周日营业吗？", 1))
            waited = asyncio.get_running_loop().time() - started
            assert (status, body) == (200, "success") and waited < 2.5
            await world.api_wait(lambda api: api.texts_to(CUSTOMER), within=10)
            assert world.api.texts_to(CUSTOMER) == ["我们的门店周日营业到下午五点。"]


async def test_an_agents_photo_reaches_a_wechat_customer_as_a_link(
    make_settings: SettingsFactory,
) -> None:
    public = "https://support.example.com"
    async with (
        running_telegram() as (telegram, api_url),
        aiohttp.ClientSession() as session,
        wechat_world(
            make_settings, mode="safe", public_url=public, **telegram_overrides(api_url)
        ) as wechat,
    ):
        world = Desk(wechat, telegram, session)
        telegram.add_file("agent-photo", "photos/file_3.jpg", b"\xff\xd8 photo \xff\xd9")
        await world.customer_says("人工")
        thread = await world.topic()
        photo = [{"file_id": "agent-photo", "file_unique_id": "p", "width": 64, "height": 64}]
        async with session.post(
            f"{wechat.url}/telegram/webhook",
            json=agent_message(None, thread_id=thread, photo=photo, caption="发票在这里"),
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        ) as response:
            assert response.status == 200
        await wechat.api_wait(lambda api: api.texts_to(CUSTOMER))
        [text] = wechat.api.texts_to(CUSTOMER)
        caption, link = text.split("\n")
        assert caption == "Li: 发票在这里"
        assert link.startswith(f"{public}/files/")
        async with session.get(wechat.url + link.removeprefix(public)) as response:
            assert (response.status, await response.read()) == (200, b"\xff\xd8 photo \xff\xd9")


JPEG = b"\xff\xd8\xff\xe0 a photo of the parcel \xff\xd9"


async def test_a_wechat_customers_photo_reaches_the_topic_as_a_photo(
    make_settings: SettingsFactory,
) -> None:
    async with desk(make_settings) as world:
        world.wechat.api.media["M_PHOTO"] = ("image/jpeg", JPEG)
        await world.customer_says("人工")
        thread = await world.topic()
        await world.customer_sends("image", PicUrl="http://mmbiz/1.jpg", MediaId="M_PHOTO")
        await world.telegram.wait_for(lambda f: f.methods("sendPhoto"))
        [photo] = world.telegram.methods("sendPhoto")
        assert photo.thread_id == thread
        assert photo.upload("photo") == ("M_PHOTO.jpg", JPEG)

        # A photo WeChat no longer keeps is still named in the topic, as text.
        await world.customer_sends("image", PicUrl="http://x", MediaId="OLD")
        await world.named_in_topic(thread, "OLD")
        assert len(world.telegram.methods("sendPhoto")) == 1


async def test_a_wechat_customers_video_is_fetched_by_its_link_and_posted_as_a_video(
    make_settings: SettingsFactory,
) -> None:
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
    async with desk(make_settings) as world:
        world.wechat.api.videos["M_VIDEO"] = video
        await world.customer_says("人工")
        thread = await world.topic()
        await world.customer_sends("video", MediaId="M_VIDEO", ThumbMediaId="M_THUMB")
        await world.telegram.wait_for(lambda f: f.methods("sendVideo"))
        [posted] = world.telegram.methods("sendVideo")
        assert posted.thread_id == thread
        assert posted.upload("video") == ("M_VIDEO.mp4", video)

        # A video whose link has expired is named in the topic, as text.
        world.wechat.api.videos["M_GONE"] = None
        await world.customer_sends("video", MediaId="M_GONE")
        await world.named_in_topic(thread, "M_GONE")
        # One longer than a bot may upload is named too, and not fetched whole.
        world.wechat.api.videos["M_LONG"] = bytes(VIDEO_BYTES + 1)
        await world.customer_sends("video", MediaId="M_LONG")
        await world.named_in_topic(thread, "M_LONG")
        assert len(world.telegram.methods("sendVideo")) == 1
