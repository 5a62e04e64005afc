"""Files from widget visitors: stored once, shown back to them, refused clearly when wrong."""

from __future__ import annotations

import contextlib
import gc
import warnings
from datetime import timedelta

import aiohttp

from bot.texts import Text, render
from bot.types import Direction
from storage import models
from storage.inbound import now
from storage.tickets import list_tickets
from storage.uploads import forget_unclaimed_files
from tests.conftest import LiveServer, SettingsFactory, _serve
from tests.widget_client import WidgetClient

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


async def test_a_visitors_photo_is_stored_and_opens_from_the_history(
    any_live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, any_live_server.ws_url)
    ack = await visitor.send_file(
        PNG, name="C:\\Users\\ana\\broken\x07 lamp.png", mime_type="image/png", text="It broke"
    )
    assert ack["type"] == "ack", ack
    [file] = ack["attachments"]
    assert (file["kind"], file["name"]) == ("image", "broken lamp.png")
    async with session.get(any_live_server.url + file["url"]) as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert await response.read() == PNG

    again = await WidgetClient.connect(session, any_live_server.ws_url, token=visitor.token)
    [shown] = [m for m in again.history if m["direction"] == "incoming"]
    assert shown["text"] == "It broke"
    [listed] = shown["attachments"]
    async with session.get(any_live_server.url + listed["url"]) as response:
        assert await response.read() == PNG
    [stored] = await models.Attachment.all()
    assert (stored.kind, stored.mime_type, stored.size) == ("image", "image/png", len(PNG))
    assert await models.StoredFile.all().count() == 1


async def test_a_file_sent_again_after_a_lost_ack_is_stored_once(
    live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, live_server.ws_url)
    first = await visitor.send_file(PNG, name="a.png", mime_type="image/png", client_id="f1")
    second = await visitor.send_file(PNG, name="a.png", mime_type="image/png", client_id="f1")
    assert second["duplicate"] is True and second["message_id"] == first["message_id"]
    assert await models.StoredFile.all().count() == 1
    assert await models.Message.filter(direction=Direction.INCOMING).count() == 1


async def test_a_file_alone_is_handed_to_the_team_with_a_notice(
    live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, live_server.ws_url, language="de-DE")
    ack = await visitor.send_file(b"%PDF-1.4 invoice", name="Rechnung.pdf", mime_type="bogus")
    assert ack["type"] == "ack"
    assert ack["attachments"][0]["kind"] == "file"
    notice = await visitor.next_reply()
    assert notice["text"] == render(Text.ATTACHMENT_TEXT_ONLY, "de")
    assert len(await list_tickets()) == 1
    [stored] = await models.Attachment.all()
    assert stored.mime_type == "application/octet-stream"


async def test_bad_files_are_refused_and_the_socket_stays_in_step(
    live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, live_server.ws_url)
    too_large = 10 * 2**20 + 1
    refused = await visitor.send_file(
        b"x", name="big.bin", mime_type="x/y", declared_size=too_large
    )
    assert (refused["type"], refused["code"]) == ("error", "file_too_large")
    short = await visitor.send_file(b"abc", name="a.txt", mime_type="text/plain", declared_size=9)
    assert (short["code"], short["id"]) == ("bad_file", short["id"])
    empty = await visitor.send_file(b"", name="a.txt", mime_type="text/plain")
    assert empty["code"] == "bad_file"

    # A text frame where the bytes should be: the file is refused, the frame still counts.
    file = {"name": "a.txt", "type": "text/plain", "size": 3}
    await visitor.ws.send_json({"type": "message", "id": "m1", "text": "", "file": file})
    await visitor.ws.send_json({"type": "ping"})
    missing = await visitor.next_frame("error")
    assert (missing["code"], missing["id"]) == ("bad_file", "m1")
    assert await visitor.next_frame("pong") == {"type": "pong"}

    ack = await visitor.say("How do I reset my password?")
    assert ack["type"] == "ack"
    assert await models.StoredFile.all().count() == 0
    assert await models.Message.filter(direction=Direction.INCOMING).count() == 1


async def test_a_frame_beyond_the_file_limit_closes_only_that_socket(
    live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    ws = await session.ws_connect(live_server.ws_url)
    with contextlib.suppress(ConnectionError):  # closed while the frame still goes out
        await ws.send_bytes(b"\x00" * (10 * 2**20 + 4096))
    closing = await ws.receive()
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    # aiohttp's client keeps the connection of a socket closed under it mid-frame; let it
    # go here rather than warn in a later test.
    del ws, closing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    visitor = await WidgetClient.connect(session, live_server.ws_url)
    assert (await visitor.say("How do I reset my password?"))["type"] == "ack"


async def test_with_uploads_switched_off_a_file_is_refused(
    make_settings: SettingsFactory, session: aiohttp.ClientSession
) -> None:
    async with _serve(make_settings(widget_max_file_mb=0)) as server:
        visitor = await WidgetClient.connect(session, server.ws_url)
        assert visitor.ready_frame["max_file_bytes"] == 0
        refused = await visitor.send_file(b"abc", name="a.txt", mime_type="text/plain")
        assert refused["code"] == "files_off"
        assert await models.StoredFile.all().count() == 0
        await visitor.ws.close()


async def test_an_upload_whose_message_never_came_is_removed_a_day_later(
    any_live_server: LiveServer, session: aiohttp.ClientSession
) -> None:
    visitor = await WidgetClient.connect(session, any_live_server.ws_url)
    await visitor.send_file(PNG, name="kept.png", mime_type="image/png")
    orphan = await models.StoredFile.create(
        key="web:gone:1", name="x.png", mime_type="image/png", size=1, data=b"x"
    )
    assert await forget_unclaimed_files() == 0  # both are younger than a day
    day_ago = now() - timedelta(days=1, minutes=1)
    await models.StoredFile.all().update(created_at=day_ago)
    assert await forget_unclaimed_files() == 1
    assert [f.name for f in await models.StoredFile.all()] == ["kept.png"]
    assert orphan.id not in [f.id for f in await models.StoredFile.all()]
