"""What goes to people at once, and who sounds upset: in six languages and none."""

from __future__ import annotations

import pytest

from bot.triage import triage
from bot.types import TicketPriority


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("My account was hacked, someone ordered stuff", "security"),
        ("Mein Konto wurde gehackt", "security"),
        ("Мой аккаунт взломали", "security"),
        ("我的账号被盗了", "security"),
        ("Mon compte a été piraté", "security"),
        ("Me han robado la cuenta", "security"),
        ("I lost all my photos after the update", "data_loss"),
        ("Alle meine Daten sind weg, Datenverlust!", "data_loss"),
        ("Your website is down since this morning", "outage"),
        ("Ничего не работает с утра", "outage"),
        ("You charged me twice for order 4711", "billing_dispute"),
        ("Sie haben doppelt abgebucht", "billing_dispute"),
        ("我被重复扣款了", "billing_dispute"),
        ("Vous m'avez débité deux fois", "billing_dispute"),
        ("Me cobraron dos veces", "billing_dispute"),
        ("My lawyer will contact you", "legal"),
        ("Ich schalte meinen Anwalt ein", "legal"),
        ("Je vais porter plainte", "legal"),
        ("I'll find you", None),
        ("I will kill you", "threat"),
    ],
)
def test_sensitive_matters_in_every_language(text: str, category: str | None) -> None:
    assert triage(text).sensitive == category


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "Wo ist meine Bestellung?",
        "Can I change the delivery address?",
        "我想修改收货地址",
        "The hacker news article mentioned you",  # a word inside another sense
    ],
)
def test_ordinary_questions_are_not_sensitive(text: str) -> None:
    found = triage(text)
    assert found.sensitive is None and found.priority is TicketPriority.NORMAL


@pytest.mark.parametrize(
    "text",
    [
        "THIS IS THE THIRD TIME I ASK",
        "Where is my parcel?!",
        "Hello??? Anyone there!!!",
        "Das ist eine Frechheit",
        "Это возмутительно",
        "太差了",
        "Order 12 😡",
    ],
)
def test_an_upset_tone_raises_the_priority(text: str) -> None:
    found = triage(text)
    assert found.upset and found.priority is TicketPriority.HIGH


def test_security_and_outages_are_urgent() -> None:
    assert triage("my account was hacked").priority is TicketPriority.URGENT
    assert triage("the app is down").priority is TicketPriority.URGENT
    assert triage("you charged me twice").priority is TicketPriority.HIGH
    assert triage("please answer asap").priority is TicketPriority.HIGH


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("MY ACCOUNT WAS HACKED", "security"),
        ("DATENVERLUST nach dem Update", "data_loss"),
        ("Мой Аккаунт ВЗЛОМАЛИ", "security"),
        ("Mon compte PIRATÉ", "security"),
        ("PÉRDIDA DE DATOS", "data_loss"),
    ],
)
def test_capitals_do_not_hide_a_sensitive_matter(text: str, category: str) -> None:
    assert triage(text).sensitive == category


def test_urgent_words_in_capitals_raise_the_priority() -> None:
    assert triage("SOFORT bitte").urgent
    assert triage("Срочно нужна помощь").priority is TicketPriority.HIGH
