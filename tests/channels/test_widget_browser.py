"""The chat widget in a real browser: the demo page, FAQ answers, handoff, history, live pushes.

Headless Chromium from the distribution (`/usr/bin/chromium`), driven by Playwright against
the whole app on 127.0.0.1 (the `live_server` fixture), so the page loads `/widget.js` and
talks to `/widget/ws` exactly as a customer's browser would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    FilePayload,
    Page,
    WebSocketRoute,
    async_playwright,
    expect,
)

from bot.texts import CATALOG, Text
from bot.types import ChannelAddress, ChannelKind, Direction
from storage import models
from tests.conftest import LiveServer, TelegramWorld
from tests.telegram_updates import agent_message

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SAMPLE_FAQ = Path(__file__).resolve().parents[2] / "knowledge" / "sample_faq.json"
WAIT_MS = 10_000
ASK_FOR_PERSON = "I want to talk to a human"

HAVE_CHROMIUM = CHROMIUM.exists()

if not HAVE_CHROMIUM and not os.environ.get("CI"):
    pytest.skip(
        f"browser tests need Chromium at {CHROMIUM} (Debian/Ubuntu: apt-get install chromium)",
        allow_module_level=True,
    )


def sample_faq(language: str, *, mentioning: str) -> tuple[list[str], str]:
    """Questions (the main one and its paraphrases) and the answer of one sample FAQ entry."""
    entries = json.loads(SAMPLE_FAQ.read_text(encoding="utf-8"))["faq"]
    for entry in entries:
        if entry.get("lang", "en") != language:
            continue
        questions = [entry["question"], *entry.get("paraphrases", [])]
        if any(mentioning.lower() in question.lower() for question in questions):
            return questions, entry["answer"]
    raise AssertionError(f"no {language} entry about {mentioning!r} in {SAMPLE_FAQ}")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}; CI must install it (apt-get install chromium)"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def open_page(browser: Browser, *, locale: str = "en-US") -> AsyncIterator[Page]:
    """A fresh browser profile (its own localStorage); fails if the page raised a JS error."""
    context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    try:
        yield page
    finally:
        await context.close()
    assert not script_errors, f"the widget raised in the browser: {script_errors}"


@pytest.fixture
async def page(live_server: LiveServer, browser: Browser) -> AsyncIterator[Page]:
    """An English-speaking visitor's tab (closed before the server stops)."""
    async with open_page(browser) as opened:
        yield opened


@pytest.fixture
async def german_page(live_server: LiveServer, browser: Browser) -> AsyncIterator[Page]:
    """A visitor whose browser prefers German."""
    async with open_page(browser, locale="de-DE") as opened:
        yield opened


async def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("", timeout=WAIT_MS)


async def attach_photo(page: Page, name: str) -> None:
    """Choose a PNG through the widget's attach button, as a visitor does."""
    attach = page.get_by_role("button", name="Attach a file")
    await expect(attach).to_be_visible(timeout=WAIT_MS)
    async with page.expect_file_chooser() as choosing:
        await attach.click()
    chooser = await choosing.value
    await chooser.set_files(FilePayload(name=name, mimeType="image/png", buffer=PNG))


async def visitor_id(page: Page) -> str:
    token = await page.evaluate("() => localStorage.getItem('helpline.token')")
    assert isinstance(token, str), "the widget stored no visitor token"
    assert "." in token, token
    return token.split(".")[0]


async def test_faq_answer_handoff_and_history_after_reload(
    live_server: LiveServer, page: Page
) -> None:
    questions, answer = sample_faq("en", mentioning="reset my password")
    handoff_notice = CATALOG[Text.HANDOFF_NOTICE]["en"]
    await page.goto(live_server.url + "/")
    chat = page.get_by_role("log")
    await expect(page.get_by_role("dialog", name="Support")).to_be_visible(timeout=WAIT_MS)

    await send(page, questions[0])
    await expect(chat).to_contain_text(answer, timeout=WAIT_MS)

    await send(page, ASK_FOR_PERSON)
    await expect(chat).to_contain_text(handoff_notice, timeout=WAIT_MS)

    await page.reload()
    chat = page.get_by_role("log")
    for text in (questions[0], answer, ASK_FOR_PERSON, handoff_notice):
        # Exactly once: the history and any live push must not both show a message.
        await expect(chat.get_by_text(text, exact=True)).to_have_count(1, timeout=WAIT_MS)


async def test_german_visitor_gets_german_widget_and_answer(
    live_server: LiveServer, german_page: Page
) -> None:
    questions, answer = sample_faq("de", mentioning="Bestellung verfolgen")
    question = next(q for q in questions if "verfolgen" in q)
    await german_page.goto(live_server.url + "/")
    await expect(german_page.get_by_role("textbox", name="Ihre Nachricht")).to_be_visible(
        timeout=WAIT_MS
    )
    await expect(german_page.get_by_role("button", name="Senden")).to_be_visible(timeout=WAIT_MS)

    await send(german_page, question)
    await expect(german_page.get_by_role("log")).to_contain_text(answer, timeout=WAIT_MS)


async def test_agent_reply_appears_without_reload(live_server: LiveServer, page: Page) -> None:
    await page.goto(live_server.url + "/")
    chat = page.get_by_role("log")
    await send(page, "Hello, is anybody there?")
    # The acknowledgement means the message, and so the conversation, is stored.
    await expect(chat.get_by_text("Sent", exact=True)).to_be_visible(timeout=WAIT_MS)

    visitor = await visitor_id(page)
    address = ChannelAddress(ChannelKind.WEB, visitor, visitor)
    conversation_id = await live_server.runtime.conversations.find_conversation(address)
    assert conversation_id is not None

    reply = "Hi, I'm Anna from the support team. Let me check that for you."
    await live_server.runtime.manager.send_as_agent(conversation_id, reply, agent_name="Anna")

    await expect(chat).to_contain_text(reply, timeout=WAIT_MS)
    await expect(chat.get_by_text("Anna", exact=True)).to_be_visible(timeout=WAIT_MS)


async def test_keyboard_and_accessible_markup(live_server: LiveServer, page: Page) -> None:
    await page.goto(live_server.url + "/")
    chat = page.get_by_role("log")
    await expect(chat).to_have_attribute("aria-live", "polite", timeout=WAIT_MS)
    box = page.get_by_role("textbox", name="Your message")
    await expect(page.get_by_role("button", name="Send")).to_have_attribute("type", "submit")

    # Escape closes the panel and returns focus to the launcher; opening focuses the textbox.
    await box.focus()
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog")).to_be_hidden(timeout=WAIT_MS)
    launcher = page.get_by_role("button", name="Chat with support")
    await expect(launcher).to_be_focused(timeout=WAIT_MS)
    await expect(launcher).to_have_attribute("aria-expanded", "false")
    await page.keyboard.press("Enter")
    await expect(box).to_be_focused(timeout=WAIT_MS)
    await expect(launcher).to_have_attribute("aria-expanded", "true")

    # Shift+Enter inserts a newline, Enter sends; the line break survives rendering.
    await page.keyboard.type("First line")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("second line")
    await expect(box).to_have_value("First line\nsecond line")
    await page.keyboard.press("Enter")
    await expect(box).to_have_value("", timeout=WAIT_MS)
    sent = chat.get_by_text("First line")
    await expect(sent).to_be_visible(timeout=WAIT_MS)
    assert "First line\nsecond line" in await sent.inner_text()

    # Usable on a 320 px wide phone.
    await page.set_viewport_size({"width": 320, "height": 640})
    await expect(box).to_be_in_viewport(timeout=WAIT_MS)
    await expect(page.get_by_role("button", name="Send")).to_be_in_viewport(timeout=WAIT_MS)


async def test_message_text_is_shown_as_text(live_server: LiveServer, page: Page) -> None:
    markup = '<img src=x onerror="window.injected=1"><b>bold</b>'
    await page.goto(live_server.url + "/")
    await send(page, markup)
    chat = page.get_by_role("log")
    await expect(chat.get_by_text(markup, exact=True)).to_be_visible(timeout=WAIT_MS)
    await asyncio.sleep(0.2)  # an injected image would have fired its onerror by now
    assert await chat.locator("b, img").count() == 0
    assert await page.evaluate("() => window.injected === undefined")


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


async def test_a_photo_from_the_agents_chat_is_shown(
    telegram: TelegramWorld, browser: Browser
) -> None:
    telegram.fake.add_file("agent-photo", "photos/file_9.png", PNG)
    async with open_page(browser) as page:
        await page.goto(telegram.server.url + "/")
        chat = page.get_by_role("log")
        await send(page, ASK_FOR_PERSON)
        await expect(chat).to_contain_text(CATALOG[Text.HANDOFF_NOTICE]["en"], timeout=WAIT_MS)
        await telegram.fake.wait_for(lambda f: f.topics)
        thread = next(iter(telegram.fake.topics))
        photo = [{"file_id": "agent-photo", "file_unique_id": "p", "width": 1, "height": 1}]
        await telegram.post(agent_message(None, thread_id=thread, photo=photo, caption="Look"))

        image = chat.get_by_role("img", name="Image")
        await expect(image).to_be_visible(timeout=WAIT_MS)
        width = await image.evaluate(
            "img => img.complete ? img.naturalWidth"
            " : new Promise(done => { img.onload = () => done(img.naturalWidth);"
            " img.onerror = () => done(0); })"
        )
        assert width == 1, "the photo did not load from its link"


async def test_a_visitor_attaches_a_photo_that_stays_in_the_history(
    live_server: LiveServer, page: Page
) -> None:
    await page.goto(live_server.url + "/")
    chat = page.get_by_role("log")
    await attach_photo(page, "receipt.png")

    await expect(chat).to_contain_text(CATALOG[Text.ATTACHMENT_TEXT_ONLY]["en"], timeout=WAIT_MS)
    image = chat.get_by_role("img", name="receipt.png")
    await expect(image).to_be_visible(timeout=WAIT_MS)
    await page.reload()
    image = page.get_by_role("log").get_by_role("img", name="receipt.png")
    await expect(image).to_have_count(1, timeout=WAIT_MS)
    width = await image.evaluate(
        "img => img.complete ? img.naturalWidth"
        " : new Promise(done => { img.onload = () => done(img.naturalWidth);"
        " img.onerror = () => done(0); })"
    )
    assert width == 1, "the photo did not load from its link"


async def test_a_file_sent_while_the_socket_was_cut_off_goes_again_after_a_reload(
    live_server: LiveServer, page: Page
) -> None:
    """The visitor's photo never reached the server; after a reload it is sent again from
    what the browser kept, and stored once."""
    cut_off = True

    async def between(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def from_page(frame: str | bytes) -> None:
            carries_file = isinstance(frame, bytes) or '"file"' in frame
            if not (cut_off and carries_file):
                server.send(frame)

        socket.on_message(from_page)
        server.on_message(socket.send)

    await page.route_web_socket(re.compile(r"/widget/ws$"), between)
    await page.goto(live_server.url + "/")
    await attach_photo(page, "receipt.png")
    await expect(page.get_by_role("log")).to_contain_text("receipt.png", timeout=WAIT_MS)
    kept = (
        "() => new Promise(done => { const open = indexedDB.open('helpline-widget');"
        " open.onsuccess = () => { const count = open.result.transaction('pending-files')"
        ".objectStore('pending-files').count(); count.onsuccess = () => done(count.result); };"
        " open.onerror = () => done(0); })"
    )
    await page.wait_for_function(f"({kept})().then(n => n === 1)", polling=100)
    assert await models.Message.filter(direction=Direction.INCOMING).count() == 0

    cut_off = False
    await page.reload()
    image = page.get_by_role("log").get_by_role("img", name="receipt.png")
    await expect(image).to_have_count(1, timeout=WAIT_MS)
    await page.wait_for_function(f"({kept})().then(n => n === 0)", polling=100)
    await page.reload()  # from the history now, once
    await expect(page.get_by_role("log").get_by_role("img", name="receipt.png")).to_have_count(1)
    stored = await models.Message.filter(direction=Direction.INCOMING).prefetch_related(
        "attachments"
    )
    assert [len(message.attachments) for message in stored] == [1]
