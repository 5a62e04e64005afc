"""AI replies end to end: a widget customer, Helpline, and a fake model API on loopback.

Every test runs against both wire protocols (Anthropic Messages, OpenAI Chat Completions)
with the real SDK clients.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.texts import Text, render
from bot.types import AnsweredBy, FaqEntry, TicketPriority, TicketStatus
from knowledge.documents import load_document
from storage import models
from storage.documents import DocumentStore
from storage.faq import FaqStore
from storage.tickets import list_tickets
from tests.ai_world import ai_world, target_language, translating
from tests.conftest import SettingsFactory
from tests.fakes.anthropic_api import Answer, Failure, Script, ToolUse, mentions
from tests.widget_client import WidgetClient

PROVIDERS = ["anthropic", "openai"]
SILENCE = 0.5


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def payments_document(tmp_path: Path) -> Path:
    path = tmp_path / "payments.md"
    path.write_text(
        "# Payments\n\nCash on delivery is available in Portugal and Spain for €2 extra.\n",
        encoding="utf-8",
    )
    return path


async def test_a_grounded_answer_uses_the_knowledge_and_the_customer(
    make_settings: SettingsFactory, provider: str, payments_document: Path
) -> None:
    script = Script().on(
        mentions("pay on delivery"), Answer("Yes, cash on delivery costs €2 extra in Portugal.")
    )
    async with ai_world(make_settings, provider, script) as world:
        document = load_document(payments_document)
        await DocumentStore().replace(
            name=document.name,
            title=document.title,
            language="en",
            digest=document.digest,
            passages=document.passages,
        )
        await world.server.runtime.documents.refresh()
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("Can I pay on delivery in Portugal?")
        reply = await visitor.next_reply()
        assert reply["text"] == "Yes, cash on delivery costs €2 extra in Portugal."
        [call] = world.llm.calls
        prompt = str(call.body)
        assert "Cash on delivery is available in Portugal" in prompt  # the passage
        assert "Reply in English" in prompt
        assert "search_knowledge" in call.tools and "handoff_to_human" in call.tools
        question = await models.Message.get(text="Can I pay on delivery in Portugal?")
        assert question.answered_by == AnsweredBy.AI
        assert question.ai_input_tokens and question.ai_output_tokens
        assert await list_tickets() == []


async def test_the_second_turn_carries_the_first(
    make_settings: SettingsFactory, provider: str
) -> None:
    script = (
        Script()
        .on(mentions("parcel"), Answer("Which order number is it?"))
        .on(mentions("4711"), Answer("Order 4711 left our warehouse yesterday."))
    )
    async with ai_world(make_settings, provider, script) as world:
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("My parcel has not arrived, can you check?")
        await visitor.next_reply()
        await visitor.say("It is order 4711")
        assert (await visitor.next_reply())["text"] == "Order 4711 left our warehouse yesterday."
        second = world.llm.calls[-1]
        assert ("user", "My parcel has not arrived, can you check?") in second.history
        assert ("assistant", "Which order number is it?") in second.history


async def test_a_confident_faq_match_calls_no_model(
    make_settings: SettingsFactory, provider: str
) -> None:
    async with ai_world(make_settings, provider, Script()) as world:
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("How do I reset my password?")
        reply = await visitor.next_reply()
        assert "Forgot password" in reply["text"]
        assert world.llm.calls == []


async def test_the_model_hands_off_through_its_tool(
    make_settings: SettingsFactory, provider: str
) -> None:
    handoff = ToolUse(
        "handoff_to_human",
        {"reason": "wants a refund above the limit", "priority": "high", "category": "refund"},
    )
    script = Script().on(
        mentions("refund"),
        Answer(tool_calls=(handoff,)),
        Answer("I've asked a colleague to look at your refund; they'll reply here."),
    )
    async with ai_world(make_settings, provider, script) as world:
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("I want a refund of my 300 euro order, it was a gift")
        reply = await visitor.next_reply()
        assert reply["text"] == "I've asked a colleague to look at your refund; they'll reply here."
        [ticket] = await list_tickets()
        assert (ticket.priority, ticket.category) == (TicketPriority.HIGH, "refund")
        opened = await models.TicketEvent.get(ticket_id=ticket.id, kind="opened")
        assert opened.detail["reason"] == "wants a refund above the limit"


async def test_a_failing_provider_gives_a_holding_message_and_a_ticket(
    make_settings: SettingsFactory, provider: str
) -> None:
    script = Script(default=lambda call: Failure(500))
    async with ai_world(make_settings, provider, script) as world:
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("Do you have the blue jacket in size XL?")
        reply = await visitor.next_reply()
        assert reply["text"] == render(Text.HOLDING, "en")
        [ticket] = await list_tickets()
        assert ticket.priority is TicketPriority.HIGH
        assert set(world.llm.statuses) == {500}
        assert len(world.llm.statuses) == 2  # one try and one retry, no more


async def test_a_slow_provider_times_out_politely(
    make_settings: SettingsFactory, provider: str
) -> None:
    script = Script(default=lambda call: Answer("too late", delay=5))
    async with ai_world(make_settings, provider, script, llm_timeout=1) as world:
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("Is the store in Lyon open on Sundays?")
        reply = await visitor.next_reply()
        assert reply["text"] == render(Text.HOLDING, "en")
        assert "too late" not in reply["text"]


async def test_sensitive_matters_go_to_people_without_the_model(
    make_settings: SettingsFactory, provider: str
) -> None:
    async with ai_world(make_settings, provider, Script()) as world:
        visitor = await WidgetClient.connect(world.session, world.server.ws_url, language="de")
        await visitor.say("Mein Konto wurde gehackt, jemand hat bestellt!")
        reply = await visitor.next_reply()
        assert reply["text"] == render(Text.SENSITIVE_NOTICE, "de")
        [ticket] = await list_tickets()
        assert (ticket.priority, ticket.category) == (TicketPriority.URGENT, "security")
        assert world.llm.calls == []


def _hours_not_now() -> str:
    """Staffed hours that exclude the present moment (UTC)."""
    start = datetime.now(UTC) + timedelta(hours=2)
    end = start + timedelta(hours=1)
    if end.date() != start.date():
        start, end = start + timedelta(hours=1), start + timedelta(hours=2)
    return f"mon-sun {start:%H:00}-{end:%H:00}"


def _hours_now() -> str:
    return "mon-sun 00:00-24:00"


async def test_after_hours_the_ai_answers_simple_and_defers_complex_questions(
    make_settings: SettingsFactory, provider: str
) -> None:
    handoff = ToolUse("handoff_to_human", {"reason": "warranty claim", "priority": "normal"})
    script = (
        Script()
        .on(mentions("emballage"), Answer("Oui, nous emballons pour 3 €."))
        .on(
            mentions("garantie"),
            Answer(tool_calls=(handoff,)),
            Answer("Un collègue va vous aider."),
        )
    )
    hours = _hours_not_now()
    async with ai_world(
        make_settings, provider, script, ai_mode="after_hours", business_hours=hours
    ) as world:
        visitor = await WidgetClient.connect(world.session, world.server.ws_url, language="fr")
        await visitor.say("Proposez-vous un emballage cadeau pour les commandes ?")
        assert (await visitor.next_reply())["text"] == "Oui, nous emballons pour 3 €."
        await visitor.say("Ma machine à café est cassée, je voudrais une réparation sous garantie")
        notice = await visitor.next_reply()
        back = await visitor.next_reply()
        assert notice["text"] == "Un collègue va vous aider."
        start = hours.split()[1].split("-")[0]
        assert back["text"].startswith("Notre équipe sera de retour") and start in back["text"]
        [ticket] = await list_tickets()
        assert ticket.status is TicketStatus.OPEN


async def test_during_staffed_hours_the_after_hours_responder_stays_out(
    make_settings: SettingsFactory, provider: str
) -> None:
    async with ai_world(
        make_settings, provider, Script(), ai_mode="after_hours", business_hours=_hours_now()
    ) as world:
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("Do you offer gift wrap?")
        reply = await visitor.next_reply()
        assert reply["text"] == render(Text.NO_ANSWER_TICKET, "en")
        assert world.llm.calls == []
        assert len(await list_tickets()) == 1


async def test_a_missing_faq_language_is_translated(
    make_settings: SettingsFactory, provider: str
) -> None:
    script = Script().rule(
        lambda call: (
            Answer(f"[{target_language(call)}] {call.question}") if translating(call) else None
        )
    )
    async with ai_world(make_settings, provider, script) as world:
        await FaqStore().import_entries(
            [
                FaqEntry(
                    faq_id="gift-cards",
                    language="en",
                    question="Do you sell gift cards?",
                    answer="Yes, gift cards from 10 to 200 euros.",
                )
            ]
        )
        await world.server.runtime.faq.refresh()
        visitor = await WidgetClient.connect(world.session, world.server.ws_url, language="de")
        await visitor.say("Verkaufen Sie Geschenkkarten? Gift cards?")
        reply = await visitor.next_reply()
        assert reply["text"] == "[de] Yes, gift cards from 10 to 200 euros."
        await asyncio.sleep(0)


async def test_costs_are_summed_for_the_day(make_settings: SettingsFactory, provider: str) -> None:
    script = Script().on(mentions("umbrella"), Answer("Yes, umbrellas are in aisle 4."))
    async with ai_world(make_settings, provider, script) as world:
        visitor = await WidgetClient.connect(world.session, world.server.ws_url)
        await visitor.say("Do you sell umbrellas in the Lyon store?")
        await visitor.next_reply()
        await visitor.say("How do I reset my password?")
        await visitor.next_reply()
        usage = await world.server.runtime.staff.reports.usage()
        assert (usage.faq_answers, usage.ai_answers, usage.model_calls) == (1, 1, 1)
        assert usage.input_tokens > 0 and usage.output_tokens > 0
        assert usage.cost_usd is not None and usage.cost_usd > 0
