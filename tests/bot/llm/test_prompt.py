"""The prompt: a stable, cacheable prefix; grounding and customer facts; a history budget."""

from __future__ import annotations

from dataclasses import replace

from bot.llm import Passage, PromptBuilder, Speaker, support_tools
from bot.llm.tokens import estimate_tokens
from bot.types import Attachment, AttachmentKind, ChannelKind, TicketStatus
from tests.bot.llm.examples import customer, faq, from_customer, from_us, ticket


def test_the_prefix_is_the_same_for_every_question() -> None:
    builder = PromptBuilder(company_name="Acme Bikes", history_tokens=500)
    first = builder.build(question=from_customer(1, "Hi"), language="en", customer=customer("A"))
    second = builder.build(
        question=from_customer(2, "Hallo"),
        language="de",
        faq=[faq("Q?", "A.")],
        customer=customer("B"),
        channel=ChannelKind.WECHAT,
    )
    assert first.system == second.system
    assert first.tools == second.tools == support_tools()
    assert "Acme Bikes" in first.system and "Do not promise refunds" in first.system
    assert "Reply in English." in first.context and "Reply in German." in second.context


def test_operator_guidelines_replace_the_default_ones_but_not_the_rules() -> None:
    builder = PromptBuilder(
        company_name="Acme",
        guidelines="Use a warm, informal tone. Refunds within 30 days are fine to confirm.",
        history_tokens=500,
    )
    assert "Refunds within 30 days are fine to confirm." in builder.system
    assert "Do not promise refunds" not in builder.system
    assert "handoff_to_human" in builder.system and "mark_answer_as_safe" in builder.system


def test_context_holds_knowledge_customer_and_language() -> None:
    request = PromptBuilder(company_name="Acme", history_tokens=500).build(
        question=from_customer(1, "如何重置密码？"),
        language="zh",
        faq=[faq("How do I reset my password?", "Tap 'Forgot password'.")],
        passages=[Passage("Accounts", "Passwords need 10 characters.", source="help/accounts")],
        customer=customer("Li Wei"),
        channel=ChannelKind.WEB,
        open_tickets=[
            ticket(12, "Refund for order 881"),
            ticket(9, "Old case", status=TicketStatus.CLOSED),
        ],
    )
    context = request.context
    assert "Q: How do I reset my password?\nA: Tap 'Forgot password'." in context
    assert '<passage title="Accounts (help/accounts)">' in context
    assert "Passwords need 10 characters." in context
    assert "Name: Li Wei" in context and "web chat" in context
    assert "#12 (open, high" in context and "Refund for order 881" in context
    assert "#9" not in context  # closed tickets are not open tickets
    assert context.endswith("Reply in Chinese (simplified).")
    assert request.question == "如何重置密码？"


def test_knowledge_beyond_its_budget_is_left_out() -> None:
    passages = [Passage(f"Doc {n}", "word " * 400) for n in range(10)]
    request = PromptBuilder(company_name="Acme", history_tokens=0, grounding_tokens=1200).build(
        question=from_customer(1, "?"), language="en", passages=passages
    )
    assert "Doc 1" in request.context and "Doc 2" not in request.context


def test_history_keeps_what_the_customer_saw() -> None:
    history = [
        from_customer(1, "My order"),
        from_us(2, "Noted for the team", private=True),
        from_us(3, "Which one?"),
        from_customer(4, "this one"),
    ]
    attachment = Attachment(AttachmentKind.IMAGE, reference="file-1")
    history[3] = replace(history[3], attachments=(attachment,))
    request = PromptBuilder(company_name="Acme", history_tokens=500).build(
        question=history[3], language="en", history=history
    )
    assert [(turn.speaker, turn.text) for turn in request.history] == [
        (Speaker.CUSTOMER, "My order"),
        (Speaker.ASSISTANT, "Which one?"),
    ]
    assert request.question == "this one\n[attached: image]"


def test_history_budget_counts_from_the_newest() -> None:
    history = [from_customer(n, f"message {n} " + "x" * 200) for n in range(1, 11)]
    turns = PromptBuilder(company_name="Acme", history_tokens=200).recent_turns(history)
    assert [turn.text.split()[1] for turn in turns] == ["8", "9", "10"]
    assert PromptBuilder(company_name="Acme", history_tokens=0).recent_turns(history) == ()


def test_token_estimates_grow_with_denser_scripts() -> None:
    assert estimate_tokens("") == 0
    english = estimate_tokens("How do I reset my password?")
    russian = estimate_tokens("Как сбросить пароль?")
    chinese = estimate_tokens("如何重置密码？")
    assert 6 <= english <= 10
    assert russian >= len("Как сбросить пароль?") // 2
    assert chinese == len("如何重置密码？")
