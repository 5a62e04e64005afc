"""`helpline cmd`: staff commands from the command line, as the admin "Command line".

Most tests call the same entry point as the installed script, in this process; the last
ones run the real script next to a running server, which delivers what the command owed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.texts import Text, render
from bot.types import ChannelKind, InboundMessage, TicketRequest, TicketStatus, TurnResult
from storage import models
from storage.conversations import ConversationStore
from storage.database import Database
from tests.admin_commands.seeds import seed_tickets
from tests.conftest import WEBHOOK_SECRET, TelegramWorld
from tests.fakes.telegram_api import TOKEN
from tests.telegram_updates import AGENTS_CHAT
from tests.test_cli import HELPLINE

Helpline = Callable[..., tuple[int, str, str]]


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite://{tmp_path}/cmd.sqlite3"
    monkeypatch.setenv("HELPLINE_DATABASE_URL", url)
    return url


@pytest.fixture
def helpline(database_url: str, capsys: pytest.CaptureFixture[str]) -> Helpline:
    """Run `helpline cmd ...`; returns the exit code, stdout and stderr."""

    def run(*words: str) -> tuple[int, str, str]:
        code = main(["cmd", *words])
        captured = capsys.readouterr()
        return code, captured.out.strip(), captured.err.strip()

    return run


def with_database(url: str, work: Callable[[], Awaitable[None]]) -> None:
    async def run() -> None:
        database = Database(url)
        await database.open()
        try:
            await work()
        finally:
            await database.close()

    asyncio.run(run())


async def customer_asks_for_a_person(user: str, name: str) -> None:
    """A customer's message and the turn that handed it on, written through the store."""
    store = ConversationStore()
    recorded = await store.record_inbound(
        InboundMessage(ChannelKind.WEB, user, user, "I need a person", f"{user}:1", name),
        lease_owner="seed",
    )
    await store.commit_turn(
        TurnResult(
            inbound_message_id=recorded.message_id,
            conversation_id=recorded.conversation_id,
            replies=(),
            language="en",
            ticket=TicketRequest(reason="customer asked for a person", subject="I need a person"),
        ),
        lease_owner="seed",
    )


def two_customers(url: str) -> None:
    async def seed() -> None:
        await customer_asks_for_a_person("visitor-a", "Anna")
        await customer_asks_for_a_person("visitor-b", "Boris")

    with_database(url, seed)


def test_ticket_commands_from_the_command_line(helpline: Helpline, database_url: str) -> None:
    two_customers(database_url)
    code, out, _ = helpline("/tickets open")
    assert code == 0 and out.splitlines()[0] == "Open tickets: 2"
    assert helpline("/priority", "urgent", "#2")[:2] == (0, "#2 (open, urgent) updated.")
    assert helpline("tickets urgent")[1].splitlines()[1].startswith("#2 urgent · open")
    assert helpline("/status waiting_customer #2")[1] == "#2 (waiting_customer, urgent) updated."
    assert helpline("/note called, no answer #2")[1] == "Note added to #2."
    assert helpline("/tag add vip #1")[1] == "Tag vip added to the customer of #1."
    profile = helpline("/profile #1")[1].splitlines()
    assert profile[0].startswith("Anna · customer 1") and "Tags: vip" in profile
    assert helpline("/ai off #1")[1] == "AI replies off for this conversation (@command-line)"
    assert helpline("/ai off all")[1] == "AI replies are off for everyone."
    assert helpline("/ai on all")[1] == "AI replies are on for everyone."

    with_database(database_url, _agent_writes_once)
    assert helpline("/assign @li #1")[1].splitlines() == [
        "#1 (in_progress, normal) is now assigned to @li.",
        "queued for the server to deliver: 1 to the customer, 0 to the agents' chat",
    ]
    assert helpline("/tickets @li")[1].splitlines()[0] == "Tickets of @li: 1"
    assert helpline("/unassign #1")[1] == "#1 (open, normal) has no assignee now."
    assert helpline("/close #1 sorted by phone")[1].splitlines() == [
        "#1 (closed, normal) closed.",
        "queued for the server to deliver: 2 to the customer, 0 to the agents' chat",
    ]
    assert helpline("/reopen #1")[1] == "#1 (open, normal) reopened."
    assert helpline("/cancel #1")[1] == "#1 (cancelled, normal) cancelled."
    card = helpline("/ticket #1")[1].splitlines()
    assert card[0] == "Ticket #1 · cancelled · normal priority"
    assert any(
        "@command-line: #1 closed by @command-line: sorted by phone" in line for line in card
    )

    async def check() -> None:
        events = (
            await models.TicketEvent.filter(ticket_id=1).order_by("id").prefetch_related("actor")
        )
        by_cli = [e.kind for e in events if e.actor and e.actor.username == "command-line"]
        assert by_cli == [
            "tagged", "ai", "assigned", "assigned", "closed", "reopened", "closed",
        ]  # fmt: skip
        assert (await models.Ticket.get(id=1)).status is TicketStatus.CANCELLED
        # No server ran: what the customer is owed waits, free for the next one to take.
        pending = await models.Delivery.filter(status="pending")
        assert len(pending) == 3
        assert all(d.lease_until is None or d.lease_until <= datetime.now(UTC) for d in pending)

    with_database(database_url, check)


async def _agent_writes_once() -> None:
    await models.Agent.create(display_name="Li", username="li", telegram_user_id=7002)


def test_faq_stats_and_presence_from_the_command_line(
    helpline: Helpline, database_url: str
) -> None:
    question = '"Do you ship to Iceland?" "Yes, in five to seven working days."'
    code, out, _ = helpline(f"/faq add {question} en")
    assert code == 0 and out.startswith("Added FAQ entry do-you-ship-to-iceland (en).")
    code, out, _ = helpline("/faq search do you ship to iceland")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "FAQ matches for 'do you ship to iceland':"
    assert "do-you-ship-to-iceland (en) — Do you ship to Iceland?" in lines[1]
    assert lines[-1] == "The bot would answer this with do-you-ship-to-iceland."
    assert helpline("/faq remove do-you-ship-to-iceland")[1] == (
        "Removed FAQ entry do-you-ship-to-iceland (1 language version)."
    )

    with_database(database_url, lambda: seed_tickets(datetime.now(UTC)))
    code, out, _ = helpline("/stats 7d")
    assert code == 0
    assert out.splitlines()[1:3] == [
        "Opened 8 · resolved 7 · cancelled 1",
        "First response (4 answered, 4 waiting): mean 30m, median 25m, p95 55m",
    ]
    assert helpline("/agents")[1] == (
        "No agents yet: agents appear when they first write in the agents' chat."
    )
    assert helpline("/away")[0] == 0 and helpline("/online")[0] == 0
    code, out, _ = helpline("/help")
    assert code == 0 and "/faq add <question> <answer> [lang] [id]" in out


def test_failures_exit_non_zero_with_the_reason(helpline: Helpline, database_url: str) -> None:
    two_customers(database_url)
    code, out, err = helpline("/tikets")
    assert (code, out) == (2, "")
    assert err.startswith("Unknown command /tikets. Did you mean /tickets")
    code, _, err = helpline("/priority #1")
    assert code == 2
    assert err == "/priority needs level. Usage: /priority <low|normal|high|urgent> [#N]"
    assert helpline("/close") == (1, "", "Name the ticket (#N) or use the command in its topic.")
    assert helpline("/close #9") == (1, "", "There is no ticket #9.")
    assert helpline("/assign me #1") == (
        1,
        "",
        "The command line cannot take tickets; name an agent: @username.",
    )
    assert helpline("/faq") == (
        2,
        "",
        "/faq needs one of: add, remove, search. Usage:\n"
        "/faq add <question> <answer> [lang] [id]\n/faq remove <id>\n/faq search <query...>",
    )


def run_script(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HELPLINE, "cmd", line], env=env, capture_output=True, text=True, timeout=120
    )


async def test_a_running_server_delivers_what_the_command_owes(
    telegram: TelegramWorld, tmp_path: Path
) -> None:
    """The script exits; the server's outbox sends the closing message and the rating
    question, posts in the topic and closes it, all within seconds (nothing stays leased)."""
    from tests.admin_commands.desk import hand_off, posted_in_topic

    customer = 831
    thread = await hand_off(telegram, customer)
    env = {
        **os.environ,
        "HELPLINE_DATABASE_URL": f"sqlite://{tmp_path / 'helpline.sqlite3'}",
        "HELPLINE_TELEGRAM_TOKEN": TOKEN,
        "HELPLINE_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HELPLINE_TELEGRAM_AGENT_CHAT_ID": str(AGENTS_CHAT),
    }
    done = await asyncio.to_thread(run_script, "/close #1 refunded by bank transfer", env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "#1 (closed, normal) closed.",
        "queued for the server to deliver: 2 to the customer, 1 to the agents' chat",
    ]
    await telegram.fake.wait_for(
        lambda f: render(Text.RATING_QUESTION, "en") in f.texts(customer), within=5
    )
    assert render(Text.TICKET_CLOSED, "en") in telegram.fake.texts(customer)
    await posted_in_topic(telegram, thread, "#1 closed by @command-line: refunded by bank transfer")
    await telegram.fake.wait_for(lambda f: f.methods("closeForumTopic"), within=5)

    refused = await asyncio.to_thread(run_script, "/clsoe #1", env)
    assert refused.returncode == 2 and "Did you mean /close" in refused.stderr
