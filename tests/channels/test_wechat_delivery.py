"""Replies that miss the 5-second window: WeChat's customer-service API, its token, its errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.texts import Text, render
from bot.types import ChannelAddress, ChannelKind, MessageStatus
from storage import models
from tests.conftest import SettingsFactory
from tests.fakes.wechat_api import WeChatPush, WeChatWorld, wechat_world
from tests.waiting import eventually

ASK_FOR_PERSON = "转人工"


@pytest.fixture
async def wechat(make_settings: SettingsFactory) -> AsyncIterator[WeChatWorld]:
    async with wechat_world(make_settings, mode="safe") as world:
        yield world


async def handed_off(world: WeChatWorld, openid: str, msg_id: int) -> int:
    """A customer who asked for a person (answered passively); their conversation id."""
    _, body = await world.push.post(WeChatPush.text(openid, ASK_FOR_PERSON, msg_id))
    assert world.push.reply_fields(body)["Content"] == render(Text.HANDOFF_NOTICE, "zh")
    conversation_id = await world.runtime.conversations.find_conversation(
        ChannelAddress(ChannelKind.WECHAT, openid, openid)
    )
    assert conversation_id is not None
    return conversation_id


async def stored_incoming(openid: str) -> int:
    return await models.Message.filter(
        channel=ChannelKind.WECHAT,
        direction="incoming",
        conversation__identity__external_user_id=openid,
    ).count()


async def agent_deliveries() -> list[models.Delivery]:
    return await models.Delivery.filter(message__sender_kind="agent").order_by("id")


async def test_an_agent_reply_after_the_window_arrives_through_the_api(
    wechat: WeChatWorld,
) -> None:
    conversation_id = await handed_off(wechat, "oCustomer", 1)
    await wechat.runtime.manager.send_as_agent(conversation_id, "您好，我来帮您。", agent_name="Li")

    async def delivered() -> bool:
        return wechat.api.texts_to("oCustomer") == ["Li: 您好，我来帮您。"]

    await eventually(delivered)
    [delivery] = await agent_deliveries()
    assert delivery.status is MessageStatus.SENT and delivery.external_id == "api"


async def test_a_push_with_no_answer_in_time_gets_success(wechat: WeChatWorld) -> None:
    await handed_off(wechat, "oWaiting", 1)
    # The conversation waits for a person: the bot stays quiet, WeChat gets "success".
    assert await wechat.push.post(WeChatPush.text("oWaiting", "还在吗？", 2)) == (200, "success")
    assert wechat.api.sent == []


async def test_an_agent_reply_inside_the_window_goes_back_passively(wechat: WeChatWorld) -> None:
    conversation_id = await handed_off(wechat, "oQuick", 1)
    waiting = asyncio.create_task(wechat.push.post(WeChatPush.text("oQuick", "在吗？", 2)))

    async def stored() -> bool:
        return await stored_incoming("oQuick") == 2

    await eventually(stored)
    text = "在的，请讲。<b>&</b> ]]> 结束"  # markup and a CDATA end survive the XML reply
    await wechat.runtime.manager.send_as_agent(conversation_id, text, agent_name="Li")
    status, body = await waiting
    assert status == 200
    assert wechat.push.reply_fields(body)["Content"] == f"Li: {text}"
    assert wechat.api.sent == []
    [delivery] = await agent_deliveries()
    assert delivery.external_id == "passive"


async def test_a_long_reply_is_split_first_part_passive_rest_through_the_api(
    wechat: WeChatWorld,
) -> None:
    conversation_id = await handed_off(wechat, "oLong", 1)
    waiting = asyncio.create_task(wechat.push.post(WeChatPush.text("oLong", "详细说明？", 2)))

    async def stored() -> bool:
        return await stored_incoming("oLong") == 2

    await eventually(stored)
    paragraphs = [f"第{n}段：" + "请按照以下步骤操作。" * 30 for n in range(1, 6)]
    await wechat.runtime.manager.send_as_agent(
        conversation_id, "\n\n".join(paragraphs), agent_name="Li"
    )
    _, body = await waiting
    passive = wechat.push.reply_fields(body)["Content"]

    async def rest_arrived() -> bool:
        return "".join([passive, *wechat.api.texts_to("oLong")]).count("段：") == 5

    await eventually(rest_arrived)
    parts = [passive, *wechat.api.texts_to("oLong")]
    assert len(parts) >= 3
    assert all(len(part.encode()) <= 2048 for part in parts)
    assert "".join(parts).replace("\n", "") == ("Li: " + "".join(paragraphs)).replace("\n", "")


async def test_a_retried_long_reply_sends_only_the_parts_still_owed(
    wechat: WeChatWorld,
) -> None:
    """WeChat is busy at part two: the retry starts there, and the count of parts out is
    stored, so even another process would not send part one again."""
    conversation_id = await handed_off(wechat, "oParts", 1)
    wechat.api.fail_next(-1, openid="oParts", after=1)
    paragraphs = [f"第{n}段：" + "请按照以下步骤操作。" * 60 for n in range(1, 4)]
    await wechat.runtime.manager.send_as_agent(
        conversation_id, "\n\n".join(paragraphs), agent_name="Li"
    )

    async def parts_out() -> int:
        [delivery] = await agent_deliveries()
        return int(delivery.parts_sent)

    async def part_one_recorded() -> bool:
        return await parts_out() >= 1

    await eventually(part_one_recorded)

    async def delivered() -> bool:
        [delivery] = await agent_deliveries()
        return delivery.status is MessageStatus.SENT

    await eventually(delivered, within=20)
    texts = wechat.api.texts_to("oParts")
    assert [t.count("段：") for t in texts] == [1, 1, 1]
    assert [a.content for a in wechat.api.attempts].count(texts[1]) == 2  # one refusal
    assert "".join(texts).replace("\n", "") == ("Li: " + "".join(paragraphs)).replace("\n", "")


@pytest.mark.parametrize(
    ("errcode", "reason"), [(45015, "48-hour"), (45047, "quota"), (43004, "no longer follows")]
)
async def test_limits_of_the_api_fail_the_delivery_without_retrying(
    wechat: WeChatWorld, errcode: int, reason: str
) -> None:
    conversation_id = await handed_off(wechat, "oLate", 1)
    wechat.api.fail_next(errcode, times=100, openid="oLate")
    await wechat.runtime.manager.send_as_agent(conversation_id, "还需要帮助吗？", agent_name="Li")

    async def failed() -> bool:
        deliveries = await agent_deliveries()
        return bool(deliveries) and deliveries[0].status is MessageStatus.FAILED

    await eventually(failed)
    [delivery] = await agent_deliveries()
    assert delivery.error is not None and reason in delivery.error
    await asyncio.sleep(0.6)  # several outbox sweeps: none may try again
    assert len(wechat.api.attempts) == 1


async def test_a_busy_wechat_is_retried_until_delivered(wechat: WeChatWorld) -> None:
    conversation_id = await handed_off(wechat, "oBusy", 1)
    wechat.api.fail_next(-1, openid="oBusy")
    await wechat.runtime.manager.send_as_agent(conversation_id, "稍等。", agent_name="Li")

    async def delivered() -> bool:
        return wechat.api.texts_to("oBusy") == ["Li: 稍等。"]

    await eventually(delivered, within=15)
    assert len(wechat.api.attempts) == 2


async def test_an_expired_token_is_refreshed_once_for_concurrent_sends(
    wechat: WeChatWorld,
) -> None:
    customers = [f"oFan{n}" for n in range(5)]
    conversations = [await handed_off(wechat, openid, 1) for openid in customers]
    await wechat.runtime.manager.send_as_agent(conversations[0], "第一条", agent_name="Li")

    async def first_sent() -> bool:
        return len(wechat.api.sent) == 1

    await eventually(first_sent)
    assert wechat.api.token_calls == 1

    wechat.api.expire_tokens()
    await asyncio.gather(
        *(
            wechat.runtime.manager.send_as_agent(conversation, "第二条", agent_name="Li")
            for conversation in conversations
        )
    )

    async def all_sent() -> bool:
        return len(wechat.api.sent) == 6

    await eventually(all_sent)
    assert wechat.api.token_calls == 2
    assert {sent.token for sent in wechat.api.sent[1:]} == {"ACCESS_TOKEN_2"}
    assert {sent.openid for sent in wechat.api.sent[1:]} == set(customers)
    stored = await models.SystemValue.filter(key__startswith="wechat_token:").values_list(
        "value", flat=True
    )
    assert len(stored) == 1 and "ACCESS_TOKEN_2" in stored[0]


async def test_a_token_invalidated_elsewhere_is_replaced_and_the_send_retried(
    wechat: WeChatWorld,
) -> None:
    conversation_id = await handed_off(wechat, "oRetry", 1)
    wechat.api.fail_next(40001, openid="oRetry")
    await wechat.runtime.manager.send_as_agent(conversation_id, "您好", agent_name="Li")

    async def delivered() -> bool:
        return wechat.api.texts_to("oRetry") == ["Li: 您好"]

    await eventually(delivered)
    assert wechat.api.token_calls == 2
    assert [attempt.token for attempt in wechat.api.attempts] == [
        "ACCESS_TOKEN_1",
        "ACCESS_TOKEN_2",
    ]


async def test_a_slow_api_does_not_hold_up_other_customers(wechat: WeChatWorld) -> None:
    conversation_id = await handed_off(wechat, "oSlow", 1)
    wechat.api.delay = 1.0
    await wechat.runtime.manager.send_as_agent(conversation_id, "慢慢来", agent_name="Li")

    async def in_flight() -> bool:
        return (
            len(wechat.api.attempts) == 0
            and await models.Delivery.filter(message__sender_kind="agent").exists()
        )

    await eventually(in_flight)
    _, body = await wechat.push.post(WeChatPush.text("oOther", "如何重置密码？", 9))
    assert "忘记密码" in wechat.push.reply_fields(body)["Content"]

    async def delivered() -> bool:
        return wechat.api.texts_to("oSlow") == ["Li: 慢慢来"]

    await eventually(delivered)


async def test_a_passive_reply_the_customer_left_before_goes_through_the_api(
    wechat: WeChatWorld,
) -> None:
    conversation_id = await handed_off(wechat, "oGone", 1)
    xml = WeChatPush.text("oGone", "有人吗？", 2)
    with pytest.raises(TimeoutError):  # like WeChat after 5 s, the client stops waiting
        await wechat.push.post(xml, give_up_after=0.2)

    async def stored() -> bool:
        return await stored_incoming("oGone") == 2

    await eventually(stored)
    await wechat.runtime.manager.send_as_agent(conversation_id, "我在。", agent_name="Li")

    async def delivered() -> bool:
        return wechat.api.texts_to("oGone") == ["Li: 我在。"]

    await eventually(delivered)
