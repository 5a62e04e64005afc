"""Customers ask for a person in their own words, in six languages."""

from __future__ import annotations

import pytest

from bot.handoff import asks_for_person


@pytest.mark.parametrize(
    "text",
    [
        "human please",
        "I want to talk to a human",
        "can I speak to an agent?",
        "operator",
        "Ich möchte mit einem Mitarbeiter sprechen",
        "Bitte einen echten Menschen",
        "оператор",
        "Соедините с живым человеком",
        "转人工",
        "我要人工客服",
        "Je veux parler à un conseiller",
        "un humain svp",
        "Quiero hablar con un agente",
        "necesito un asesor",
    ],
)
def test_requests_for_a_person_are_recognised(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "Wo ist meine Bestellung?",
        "Как вернуть товар?",
        "我的订单在哪里",
        "Quels sont les frais de livraison ?",
        "¿Cuánto tarda el envío?",
        "The courier left my parcel with a neighbour, and now the neighbour is away for two weeks "
        "and I want to know whether a human at your warehouse can resend it",
    ],
)
def test_ordinary_questions_are_not_requests(text: str) -> None:
    assert not asks_for_person(text)
