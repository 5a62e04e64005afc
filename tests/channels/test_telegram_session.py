"""The Bot API session: JSON bodies for calls, multipart forms for uploads."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from channels.telegram.session import JsonSession
from tests.fakes.telegram_api import TOKEN, running


async def test_calls_go_as_json_and_uploads_as_forms() -> None:
    buttons = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Take", callback_data="take:7")]]
    )
    async with running() as (fake, api_url):
        bot = Bot(TOKEN, session=JsonSession(api=TelegramAPIServer.from_base(api_url)))
        try:
            sent = await bot.send_message(42, "Hello", reply_markup=buttons, message_thread_id=9)
            await bot.send_document(42, BufferedInputFile(b"log lines", filename="app.log"))
        finally:
            await bot.session.close()
    [text] = fake.methods("sendMessage")
    [document] = fake.methods("sendDocument")
    # Numbers arrive as numbers and the keyboard as an object: the body was JSON.
    assert text.params["chat_id"] == 42
    assert text.params["message_thread_id"] == 9
    assert text.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "take:7"
    assert sent.text == "Hello"
    attached = document.params["document"].removeprefix("attach://")
    assert document.params[attached] == "<file>"
    assert document.params["chat_id"] == "42"
