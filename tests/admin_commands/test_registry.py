"""The registry on its own: declarations, parsing, forgiveness, roles, suggestions."""

from __future__ import annotations

from enum import StrEnum

import pytest

from admin_commands import REGISTRY
from admin_commands.registry import (
    AgentRef,
    CommandContext,
    CommandRegistry,
    Outcome,
    Text,
    TicketRef,
)
from bot.desk import AgentView
from bot.errors import CommandError
from bot.staffing import CommandRequest, StaffService
from bot.types import Deliveries, Role
from storage.conversations import ConversationStore
from storage.staff import StaffStore

AGENT = AgentView(id=1, display_name="Li", username="li", role=Role.AGENT, online=True)
ADMIN = AgentView(id=2, display_name="Max", username="max", role=Role.ADMIN, online=True)


class Level(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class NoSink:
    def send_now(self, deliveries: Deliveries) -> None:
        raise AssertionError("parsing must not deliver anything")


def service() -> StaffService:
    return StaffService(
        store=StaffStore(mirror_to_staff=False),
        conversations=ConversationStore(),
        outbox=NoSink(),
        owner="test",
        tell_customer_on_assign=False,
    )


def build() -> CommandRegistry:
    registry = CommandRegistry()

    @registry.command("prio", role=Role.AGENT, aliases=("p",))
    async def prio(ctx: CommandContext, level: Level, ticket: TicketRef | None = None) -> str:
        """Set a priority."""
        return f"{level.value} {ticket}"

    @registry.command("note", role=Role.AGENT)
    async def note(ctx: CommandContext, text: Text, ticket: TicketRef | None = None) -> str:
        """Write a note."""
        return f"{text!s}|{ticket}"

    @registry.command("finish", role=Role.AGENT)
    async def finish(
        ctx: CommandContext, ticket: TicketRef | None = None, why: Text | None = None
    ) -> str:
        """Finish a ticket."""
        return f"{ticket}|{why}"

    @registry.command("pair", role=Role.AGENT)
    async def pair(ctx: CommandContext, first: str, second: str, count: int = 1) -> str:
        """Two words and a number."""
        return f"{first}|{second}|{count}"

    @registry.command("give", role=Role.AGENT)
    async def give(ctx: CommandContext, agent: AgentRef) -> str:
        """Give something to someone."""
        return str(agent)

    @registry.command("kb add", role=Role.ADMIN)
    async def kb_add(ctx: CommandContext, text: Text) -> str:
        """Add to the knowledge base."""
        return f"added {text!s}"

    @registry.command("kb find", role=Role.AGENT, aliases=("search",))
    async def kb_find(ctx: CommandContext, text: Text) -> str:
        """Search the knowledge base."""
        return f"found {text!s}"

    @registry.command("purge", role=Role.ADMIN)
    async def purge(ctx: CommandContext) -> str:
        """Remove everything."""
        return "purged"

    @registry.command("boom", role=Role.AGENT)
    async def boom(ctx: CommandContext) -> str:
        """Fail unexpectedly."""
        raise RuntimeError("secret internals")

    @registry.command("refuse", role=Role.AGENT)
    async def refuse(ctx: CommandContext) -> str:
        """Refuse politely."""
        raise CommandError("Not today.")

    return registry


async def run(
    registry: CommandRegistry, text: str, agent: AgentView = AGENT
) -> tuple[str, Outcome]:
    result = await registry.execute(CommandRequest(text, agent, None, service()))
    return result.text, result.outcome


async def test_arguments_are_converted_from_the_signature() -> None:
    registry = build()
    assert await run(registry, "/prio high #12") == ("high 12", Outcome.DONE)
    assert await run(registry, "/prio #12 high") == ("high 12", Outcome.DONE)
    assert await run(registry, "/p urgent") == ("urgent None", Outcome.DONE)
    assert await run(registry, "/pair one two 3") == ("one|two|3", Outcome.DONE)
    assert await run(registry, '/pair "first words" «second words»') == (
        "first words|second words|1",
        Outcome.DONE,
    )
    assert await run(registry, "/pair „erste Worte“ “second”") == (
        "erste Worte|second|1",
        Outcome.DONE,
    )
    assert await run(registry, "/give @li_support") == ("@li_support", Outcome.DONE)
    assert await run(registry, "/prio@hl_bot low") == ("low None", Outcome.DONE)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("HIGH", "high"), ("urg", "urgent"), ("urgnet", "urgent"), ("nromal", "normal")],
)
async def test_choices_forgive_case_prefixes_and_small_typos(typed: str, meant: str) -> None:
    assert await run(build(), f"/prio {typed}") == (f"{meant} None", Outcome.DONE)


async def test_bad_arguments_answer_with_the_usage_line() -> None:
    registry = build()
    text, outcome = await run(registry, "/prio")
    assert outcome is Outcome.USAGE
    assert text == "/prio needs level. Usage: /prio <low|normal|high|urgent> [#N]"
    text, outcome = await run(registry, "/prio sideways")
    assert outcome is Outcome.USAGE
    assert "level must be one of low, normal, high, urgent, not 'sideways'" in text
    text, _ = await run(registry, "/pair a b many")
    assert "count must be a number, not 'many'" in text and "Usage: /pair <first>" in text
    text, _ = await run(registry, "/pair a b 2 extra")
    assert "/pair does not take 'extra'" in text


async def test_a_ticket_inside_free_text_stays_in_the_text() -> None:
    registry = build()
    assert await run(registry, "/note #4 called the customer") == (
        "called the customer|4",
        Outcome.DONE,
    )
    assert await run(registry, "/note called the customer #4.") == (
        "called the customer.|4",
        Outcome.DONE,
    )
    assert await run(registry, "/note order #4711 is lost") == (
        "order #4711 is lost|None",
        Outcome.DONE,
    )
    assert await run(registry, "/note see issue#7") == ("see issue#7|None", Outcome.DONE)
    # Where the usage line puts #N first, a number at the end belongs to the text.
    assert await run(registry, "/finish #5 refunded") == ("5|refunded", Outcome.DONE)
    assert await run(registry, "/finish refunded order #77") == (
        "None|refunded order #77",
        Outcome.DONE,
    )


async def test_subcommands_resolve_like_commands() -> None:
    registry = build()
    assert await run(registry, "/kb add a line", ADMIN) == ("added a line", Outcome.DONE)
    assert await run(registry, "/kb fnd refunds") == ("found refunds", Outcome.DONE)
    assert await run(registry, "/kb search refunds") == ("found refunds", Outcome.DONE)
    text, outcome = await run(registry, "/kb")
    assert outcome is Outcome.USAGE
    assert text.startswith("/kb needs one of: find.")  # an agent is not offered `add`
    text, outcome = await run(registry, "/kb frobnicate", ADMIN)
    assert outcome is Outcome.USAGE and "add, find" in text and "/kb add <text...>" in text


async def test_the_role_is_checked_before_the_arguments() -> None:
    registry = build()
    assert await run(registry, "/kb add") == ("/kb add is for admins only.", Outcome.REFUSED)
    text, outcome = await run(registry, "/kb add", ADMIN)
    assert outcome is Outcome.USAGE and "Usage: /kb add <text...>" in text


async def test_unknown_commands_get_suggestions_the_reader_may_run() -> None:
    registry = build()
    text, outcome = await run(registry, "/prior high")
    assert outcome is Outcome.UNKNOWN
    assert text.startswith("Unknown command /prior. Did you mean /prio")
    assert text.endswith("? /help lists the commands.")
    text, _ = await run(registry, "/kbb")
    assert "Did you mean /kb?" in text
    text, _ = await run(registry, "/purg")
    assert "/purge" not in text  # admin only: not offered to an agent
    text, _ = await run(registry, "/purg", ADMIN)
    assert "Did you mean /purge" in text
    text, _ = await run(registry, "not a command")
    assert text.startswith("Commands start with /")


async def test_refusals_are_shown_and_failures_are_not() -> None:
    registry = build()
    assert await run(registry, "/refuse") == ("Not today.", Outcome.REFUSED)
    text, outcome = await run(registry, "/boom")
    assert outcome is Outcome.FAILED
    assert "secret internals" not in text and "failed unexpectedly" in text


def test_a_name_declared_twice_is_an_error() -> None:
    registry = build()

    async def again(ctx: CommandContext) -> str:
        """Again."""
        return ""

    with pytest.raises(ValueError, match="declared twice"):
        registry.command("p", role=Role.AGENT)(again)
    with pytest.raises(ValueError, match="already a command"):
        registry.command("prio x", role=Role.AGENT)(again)


def test_every_shipped_command_is_documented_and_its_usage_is_short() -> None:
    names = {spec.name for spec in REGISTRY.specs}
    wanted = {
        "help", "assign", "unassign", "close", "reopen", "cancel", "status", "priority",
        "ai", "note", "tag", "profile", "tickets", "ticket", "faq add", "faq search",
        "faq remove", "stats", "online", "away", "agents",
    }  # fmt: skip
    assert wanted <= names
    for spec in REGISTRY.specs:
        assert spec.summary and not spec.summary.endswith(",")
        assert len(spec.usage) < 80, spec.usage
