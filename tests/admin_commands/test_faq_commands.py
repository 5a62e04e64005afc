"""Editing the FAQ from the agents' chat: the running server answers with it within seconds."""

from __future__ import annotations

from storage import models
from storage.faq import FaqStore
from tests.admin_commands.desk import ask
from tests.conftest import TelegramWorld
from tests.telegram_updates import private_message
from tests.waiting import eventually

QUESTION = "How long does delivery take to Iceland?"
ANSWER = "Parcels to Iceland take five to seven working days."
CUSTOMER = 821


async def test_an_added_entry_answers_customers_and_keeps_the_others(
    telegram: TelegramWorld,
) -> None:
    samples = await models.FaqRecord.filter(source="sample").count()
    revision = await FaqStore().revision()
    answer = await ask(telegram, f'/faq add "{QUESTION}" "{ANSWER}"', admin=True)
    assert answer == (
        "Added FAQ entry how-long-does-delivery-take-to-iceland (en, detected from the text). "
        "The bot answers with it within seconds; "
        "/faq remove how-long-does-delivery-take-to-iceland undoes it."
    )
    assert await models.FaqRecord.filter(source="sample").count() == samples
    assert await FaqStore().revision() == revision + 1

    async def rebuilt() -> bool:
        match = telegram.runtime.faq.best_match(QUESTION, "en")
        return match is not None and match.entry.answer == ANSWER

    await eventually(rebuilt, within=15)  # the server notices the new FAQ revision
    await telegram.post(private_message(CUSTOMER, "how long does delivery to iceland take?"))
    await telegram.fake.wait_for(lambda f: f.texts(CUSTOMER))
    assert telegram.fake.texts(CUSTOMER) == [ANSWER]


async def test_language_versions_ids_and_removal(telegram: TelegramWorld) -> None:
    entry = "iceland-delivery"
    german = '"Wie lange dauert die Lieferung nach Island?" "Fünf bis sieben Werktage."'
    assert await ask(telegram, f'/faq add "{QUESTION}" "{ANSWER}" en {entry}', admin=True) == (
        f"Added FAQ entry {entry} (en). The bot answers with it within seconds; "
        f"/faq remove {entry} undoes it."
    )
    assert (await ask(telegram, f"/faq add {german} DE-de {entry}", admin=True)).startswith(
        f"Added FAQ entry {entry} (de)."
    )
    assert (await ask(telegram, f"/faq new {german} de {entry}", admin=True)).startswith(
        f"Replaced the de version of FAQ entry {entry}."
    )
    assert (await ask(telegram, f"/faq add {german}", admin=True)).startswith(
        "Added FAQ entry wie-lange-dauert-die-lieferung-nach (de, detected"
    )
    assert (await ask(telegram, f"/faq add {german}", admin=True)).startswith(
        "Added FAQ entry wie-lange-dauert-die-lieferung-nach-2 (de, detected"
    )
    assert (
        await ask(telegram, '/faq add "送货到冰岛要多久？" "五到七个工作日。"', admin=True)
    ).startswith("Added FAQ entry faq (zh, detected")
    versions = await models.FaqRecord.filter(faq_id=entry).order_by("language")
    assert [(v.language, v.answer, v.source) for v in versions] == [
        ("de", "Fünf bis sieben Werktage.", "staff"),
        ("en", ANSWER, "staff"),
    ]

    found = (await ask(telegram, "/faq search how long is delivery to iceland")).splitlines()
    assert found[0] == "FAQ matches for 'how long is delivery to iceland':"
    assert entry in found[1]  # the new entry is already in the index the bot answers from
    assert found[-1] == f"The bot would answer this with {entry}."
    assert await ask(telegram, "/faq find volcano") == "No FAQ entry matches 'volcano'."
    assert await ask(telegram, f"/faq remove {entry}", admin=True) == (
        f"Removed FAQ entry {entry} (2 language versions)."
    )
    assert await ask(telegram, f"/faq delete {entry}", admin=True) == (
        f"There is no FAQ entry {entry}; /faq search finds entries."
    )
    assert not await models.FaqRecord.filter(faq_id=entry).exists()


async def test_bad_faq_arguments_show_the_usage(telegram: TelegramWorld) -> None:
    usage = "Usage: /faq add <question> <answer> [lang] [id]"
    assert await ask(telegram, '/faq add "Only a question?"', admin=True) == (
        f"/faq add needs answer. {usage}"
    )
    assert await ask(telegram, '/faq add "Q?" "A." klingon', admin=True) == (
        f"lang must be one of en, de, ru, zh, fr, es, not 'klingon'. {usage}"
    )
    assert await ask(telegram, '/faq add "Q?" "A." en "not an id"', admin=True) == (
        "An FAQ id is letters, digits, -, _ or . (up to 100)."
    )
    assert await ask(telegram, '/faq add "   " "A."', admin=True) == (
        "An FAQ entry needs a question and an answer."
    )
    assert await ask(telegram, "/faq remove", admin=True) == (
        "/faq remove needs id. Usage: /faq remove <id>"
    )
    assert await ask(telegram, "/faq search") == (
        "/faq search needs query. Usage: /faq search <query...>"
    )
    assert await ask(telegram, "/faq frobnicate", admin=True) == (
        "/faq has no 'frobnicate'; try: add, remove, search. Usage:\n"
        "/faq add <question> <answer> [lang] [id]\n/faq remove <id>\n/faq search <query...>"
    )
