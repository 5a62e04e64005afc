"""AI replies through the real SDK clients against fake Anthropic and OpenAI APIs.

Every test runs once per provider (the `backend` fixture); what the provider must send and
understand is asserted on the fake's record of the requests.
"""

from __future__ import annotations

import time

import pytest

from bot.errors import LLMKeyRejected, LLMTimeout, LLMUnavailable
from bot.llm import LLMRequest, PromptBuilder, support_tools
from bot.types import ChannelKind, MessageStatus, SenderKind, TicketPriority, TicketRequest
from tests.bot.llm.conftest import Backend
from tests.bot.llm.examples import customer, faq, from_customer, from_us, ticket
from tests.fakes.anthropic_api import Answer, Failure, TokenUsage, ToolUse, mentions

PASSWORD_FAQ = faq(
    "How do I reset my password?",
    "Open the app, tap 'Forgot password' and follow the link we email you within 5 minutes.",
)


def builder(history_tokens: int = 3000) -> PromptBuilder:
    return PromptBuilder(company_name="Acme Bikes", history_tokens=history_tokens)


async def test_a_grounded_answer_carries_the_faq_and_what_we_know_of_the_customer(
    backend: Backend,
) -> None:
    backend.fake.script.on(mentions("password"), Answer("Tap 'Forgot password' in the app, Ana."))
    request = builder().build(
        question=from_customer(10, "I forgot my password, what now?"),
        language="de",
        faq=[PASSWORD_FAQ],
        customer=customer("Ana Lima"),
        channel=ChannelKind.TELEGRAM,
        open_tickets=[ticket(7, "Bike arrived with a flat tyre")],
    )

    reply = await backend.provider().reply(request)

    assert reply.text == "Tap 'Forgot password' in the app, Ana."
    assert (reply.provider, reply.model, reply.rounds) == (backend.name, backend.model, 1)
    [call] = backend.fake.calls
    assert call.question == "I forgot my password, what now?"
    assert "follow the link we email you within 5 minutes" in call.system
    assert "Ana Lima" in call.system and "Telegram" in call.system
    assert "#7" in call.system and "flat tyre" in call.system
    assert "Reply in German." in call.system
    assert "Acme Bikes" in call.system
    assert "internal note" not in call.system  # staff notes stay with staff
    assert reply.usage.output_tokens > 0 and reply.usage.prompt_tokens > 0
    assert reply.cost_usd is not None and reply.cost_usd > 0


async def test_the_second_turn_carries_the_first(backend: Backend) -> None:
    backend.fake.script.then(Answer("Which order number?"), Answer("Order 881 ships Friday."))
    provider = backend.provider()
    first_question = from_customer(1, "Where is my order?")
    first = await provider.reply(builder().build(question=first_question, language="en"))

    history = [first_question, from_us(2, first.text)]
    second = from_customer(3, "It is 881")
    await provider.reply(builder().build(question=second, language="en", history=history))

    assert backend.fake.calls[0].history == ()
    assert backend.fake.calls[1].history == (
        ("user", "Where is my order?"),
        ("assistant", "Which order number?"),
    )
    assert backend.fake.calls[1].question == "It is 881"


async def test_a_long_history_loses_its_oldest_turns_first(backend: Backend) -> None:
    history = []
    for n in range(1, 41, 2):
        history.append(from_customer(n, f"question {n}: " + "lorem ipsum dolor " * 20))
        history.append(from_us(n + 1, f"answer {n + 1}: " + "sit amet consectetur " * 20))
    request = builder(history_tokens=600).build(
        question=from_customer(99, "and now?"), language="en", history=history
    )

    await backend.provider().reply(request)

    [call] = backend.fake.calls
    kept = [text.split(":")[0] for _, text in call.history]
    assert 2 <= len(kept) < len(history)
    assert kept[-1] == "answer 40"  # the newest turn is always there
    everything = [message.text.split(":")[0] for message in history]
    assert kept == everything[-len(kept) :]  # a contiguous run of the newest ones


async def test_search_knowledge_runs_through_the_callback(backend: Backend) -> None:
    backend.fake.script.on(
        mentions("warranty"),
        Answer(tool_calls=(ToolUse("search_knowledge", {"query": "warranty period e-bike"}),)),
        Answer("E-bikes have a two-year warranty."),
    )
    queries: list[str] = []

    async def search(query: str) -> str:
        queries.append(query)
        return "Warranty: two years on frames and motors of e-bikes."

    request = builder().build(question=from_customer(5, "How long is the warranty?"), language="en")
    reply = await backend.provider().reply(request, search_knowledge=search)

    assert queries == ["warranty period e-bike"]
    first, second = backend.fake.calls
    assert "search_knowledge" in first.tools and first.round == 0
    assert second.round == 1
    assert [(r.name, r.content) for r in second.tool_results] == [
        ("search_knowledge", "Warranty: two years on frames and motors of e-bikes.")
    ]
    assert reply.text == "E-bikes have a two-year warranty."
    assert [(c.name, dict(c.arguments)) for c in reply.tool_calls] == [
        ("search_knowledge", {"query": "warranty period e-bike"})
    ]
    assert reply.rounds == 2 and reply.handoff is None


async def test_handoff_through_the_tool_is_parsed(backend: Backend) -> None:
    handoff = ToolUse(
        "handoff_to_human",
        {
            "reason": "Customer disputes a double charge",
            "priority": "HIGH",
            "category": "Billing dispute",
        },
    )
    backend.fake.script.on(
        mentions("charged"), Answer(tool_calls=(handoff,)), Answer("A colleague will check it.")
    )
    request = builder().build(question=from_customer(5, "You charged me twice!"), language="en")

    reply = await backend.provider().reply(request)

    assert reply.handoff == TicketRequest(
        reason="Customer disputes a double charge",
        priority=TicketPriority.HIGH,
        category="billing_dispute",
    )
    assert reply.text == "A colleague will check it."
    assert (
        "person from the support team will take over"
        in backend.fake.calls[1].tool_results[0].content
    )
    assert reply.marked_safe is False


async def test_a_bad_handoff_priority_falls_back_to_normal(backend: Backend) -> None:
    backend.fake.script.then(
        Answer(tool_calls=(ToolUse("handoff_to_human", {"priority": "asap"}),)), Answer("")
    )
    reply = await backend.provider().reply(
        builder().build(question=from_customer(1, "help"), language="en")
    )
    assert reply.handoff == TicketRequest("the AI asked for a person", TicketPriority.NORMAL, None)
    assert reply.text == ""  # the caller tells the customer with its own template


async def test_mark_answer_as_safe_is_recorded(backend: Backend) -> None:
    backend.fake.script.on(
        mentions("password"),
        Answer(tool_calls=(ToolUse("mark_answer_as_safe"),)),
        Answer("Use 'Forgot password' on the login screen."),
    )
    provider = backend.provider()
    safe = await provider.reply(
        builder().build(question=from_customer(1, "Reset my password?"), language="en")
    )
    unmarked = await provider.reply(
        builder().build(question=from_customer(2, "Can I get a refund?"), language="en")
    )

    assert safe.marked_safe is True and safe.text == "Use 'Forgot password' on the login screen."
    assert unmarked.marked_safe is False


async def test_tool_rounds_are_bounded(backend: Backend) -> None:
    backend.fake.script.rule(
        lambda call: (
            Answer("Sorry, I could not find it.")
            if call.tool_choice == "none"
            else Answer(tool_calls=(ToolUse("search_knowledge", {"query": f"try {call.round}"}),))
        )
    )

    async def search(query: str) -> str:
        return "nothing relevant"

    reply = await backend.provider(llm_max_tool_rounds=2).reply(
        builder().build(question=from_customer(1, "Obscure question"), language="en"),
        search_knowledge=search,
    )

    assert [call.tool_choice for call in backend.fake.calls] == ["auto", "auto", "none"]
    assert reply.rounds == 3 and reply.text == "Sorry, I could not find it."
    assert len(reply.tool_calls) == 2


async def test_search_is_offered_only_with_a_callback(backend: Backend) -> None:
    request = builder().build(question=from_customer(1, "hi"), language="en")
    await backend.provider().reply(request)
    assert backend.fake.calls[0].tools == ("handoff_to_human", "mark_answer_as_safe")


async def test_a_rate_limit_is_retried_once(backend: Backend) -> None:
    backend.fake.script.then(Failure(429, retry_after=0), Answer("Here you go."))
    reply = await backend.provider().reply(_plain_request())
    assert reply.text == "Here you go."
    assert backend.fake.statuses == [429, 200]


@pytest.mark.parametrize("status", [500, 529])
async def test_server_errors_get_one_retry_then_unavailable(backend: Backend, status: int) -> None:
    backend.fake.script.then(Failure(status), Failure(status), Answer("too late"))
    with pytest.raises(LLMUnavailable) as error:
        await backend.provider().reply(_plain_request())
    assert backend.fake.statuses == [status, status]
    assert error.value.status == status and error.value.provider == backend.name
    assert str(status) in str(error.value)


async def test_a_slow_provider_times_out_within_the_configured_time(backend: Backend) -> None:
    backend.fake.script.then(Answer("late", delay=5), Answer("late", delay=5))
    provider = backend.provider(llm_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(LLMTimeout, match=r"no answer within 0.5 s"):
        await provider.reply(_plain_request())
    assert time.monotonic() - started < 1.5


async def test_a_rejected_key_is_not_retried(backend: Backend) -> None:
    provider = backend.provider(
        **{f"{backend.name}_api_key": "sk-revoked-0123456789"}  # a key the fake does not know
    )
    with pytest.raises(LLMKeyRejected) as error:
        await provider.reply(_plain_request())
    assert isinstance(error.value, LLMUnavailable)
    assert backend.fake.statuses == [401]
    assert "sk-revoked" not in str(error.value) and "401" in str(error.value)


async def test_unreachable_provider_is_unavailable(backend: Backend) -> None:
    provider = backend.provider(**{f"{backend.name}_base_url": "http://127.0.0.1:9/v1"})
    with pytest.raises(LLMUnavailable, match="cannot connect"):
        await provider.reply(_plain_request())


async def test_usage_and_cost_are_reported(backend: Backend) -> None:
    if backend.name == "anthropic":
        usage = TokenUsage(input=1000, output=200, cache_read=3000, cache_write=500)
        expected = (1000 * 3.0 + 200 * 15.0 + 3000 * 0.30 + 500 * 3.75) / 1e6
    else:  # OpenAI reports cached tokens only; writes are billed as input
        usage = TokenUsage(input=1000, output=200, cache_read=3000)
        expected = (1000 * 0.40 + 200 * 1.60 + 3000 * 0.10) / 1e6
    backend.fake.script.then(Answer("ok", usage=usage))

    reply = await backend.provider().reply(_plain_request())

    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (1000, 200)
    assert (reply.usage.cache_read_tokens, reply.usage.cache_write_tokens) == (
        usage.cache_read,
        usage.cache_write,
    )
    assert reply.cost_usd == pytest.approx(expected)


async def test_usage_adds_up_over_tool_rounds_and_configured_prices_apply(
    backend: Backend,
) -> None:
    backend.fake.script.then(
        Answer(tool_calls=(ToolUse("mark_answer_as_safe"),), usage=TokenUsage(100, 10)),
        Answer("done", usage=TokenUsage(150, 20)),
    )
    provider = backend.provider(
        llm_model="house-model-7b",
        llm_prices={"house-model-7b": {"input": 1.0, "output": 2.0}},
    )
    reply = await provider.reply(_plain_request(with_tools=True))
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (250, 30)
    assert reply.model == "house-model-7b"
    assert reply.cost_usd == pytest.approx((250 * 1.0 + 30 * 2.0) / 1e6)


async def test_a_model_without_a_price_costs_none(backend: Backend) -> None:
    reply = await backend.provider(llm_model="mystery-model").reply(_plain_request())
    assert reply.cost_usd is None and reply.usage.total_tokens > 0


async def test_translate(backend: Backend) -> None:
    backend.fake.script.rule(
        lambda call: Answer("Wo ist meine Bestellung?") if "into German" in call.system else None
    )
    translation = await backend.provider().translate("Where is my order?", "de")

    assert translation.text == "Wo ist meine Bestellung?"
    assert translation.target_language == "de" and translation.provider == backend.name
    [call] = backend.fake.calls
    assert call.question == "Where is my order?" and call.tools == ()
    assert call.max_tokens is not None and call.max_tokens < 200
    assert translation.cost_usd is not None


async def test_translating_nothing_calls_nobody(backend: Backend) -> None:
    translation = await backend.provider().translate("  ", "fr")
    assert translation.text == "  " and backend.fake.calls == []


def _plain_request(*, with_tools: bool = False) -> LLMRequest:
    tools = support_tools(search=False) if with_tools else ()
    return PromptBuilder(company_name="Acme", history_tokens=100, tools=tools).build(
        question=from_customer(1, "hello"), language="en"
    )


async def test_a_tool_we_did_not_offer_gets_an_error_and_signals_nothing(
    backend: Backend,
) -> None:
    backend.fake.script.then(
        Answer(tool_calls=(ToolUse("delete_account", {"id": 3}),)), Answer("I cannot do that.")
    )
    reply = await backend.provider().reply(_plain_request(with_tools=True))
    assert "Unknown tool 'delete_account'" in backend.fake.calls[1].tool_results[0].content
    assert reply.tool_calls[0].failed is True
    assert reply.handoff is None and reply.marked_safe is False
    assert reply.text == "I cannot do that."


async def test_turns_reach_the_api_alternating_and_starting_with_the_customer(
    backend: Backend,
) -> None:
    history = [
        from_us(1, "Hi! How can I help?"),  # our greeting opens the chat
        from_customer(2, "My bike"),
        from_customer(3, "the brakes squeak"),
        from_us(4, "Sorry to hear that.", sender=SenderKind.AGENT),
        from_us(5, "check order 42 first", private=True),  # a staff-only note
        from_us(6, "draft never sent", status=MessageStatus.DRAFT),
        from_customer(7, "hello?"),  # unanswered, then the question follows
    ]
    request = builder().build(question=from_customer(8, "anyone?"), language="en", history=history)

    await backend.provider().reply(request)

    [call] = backend.fake.calls
    assert call.history == (
        ("user", "My bike\n\nthe brakes squeak"),
        ("assistant", "Sorry to hear that."),
    )
    assert call.question == "hello?\n\nanyone?"
    assert "check order 42" not in str(call.body) and "draft never sent" not in str(call.body)


async def test_a_truncated_answer_is_flagged(backend: Backend) -> None:
    backend.fake.script.then(Answer("The steps are: first", truncated=True))
    reply = await backend.provider(llm_max_output_tokens=64).reply(_plain_request())
    assert reply.truncated is True and reply.text == "The steps are: first"
    assert backend.fake.calls[0].max_tokens == 64


async def test_an_empty_translation_is_a_failure_not_a_blank_message(backend: Backend) -> None:
    backend.fake.script.then(Answer(""))
    with pytest.raises(LLMUnavailable, match="empty translation"):
        await backend.provider().translate("Where is my order?", "es")
