"""Parsing staff command lines: finding the command, checking the role, converting arguments.

    .venv/bin/python -m benchmarks.commands [--rounds 5] [--repeat 2000]

Times `REGISTRY.parse` (what runs before a command's own work) on typical lines, typos
included: a forgiven choice, an unknown command answered with suggestions, a usage error.
The target is under 1 ms per line. Each line is timed in several rounds and the best and
median round are reported; the box is shared, so the best is the truer cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from admin_commands import REGISTRY
from admin_commands.registry import CommandContext, CommandRejected
from bot.desk import AgentView
from bot.staffing import CommandRequest, StaffService
from bot.types import Deliveries, Role
from storage.conversations import ConversationStore
from storage.staff import StaffStore

TARGET_MS = 1.0
LINES = (
    "/assign me #12",
    "/close #5 refund issued by bank transfer, customer confirmed",
    "/priority urgnet #3",
    "/status waiting_customer",
    "/ai off customer #7",
    "/note called them; order #4711 ships Monday #7",
    "/tickets @li_support",
    "/tag add vip",
    '/faq add "How long does delivery take?" "Two to three working days." en',
    "/faq search reset my password",
    "/stats 7d",
    "/help faq add",
    "/tikets",
    "/priority",
)


class NoDelivery:
    def send_now(self, deliveries: Deliveries) -> None:
        raise AssertionError("parsing delivers nothing")


def context() -> CommandContext:
    service = StaffService(
        store=StaffStore(mirror_to_staff=False),
        conversations=ConversationStore(),
        outbox=NoDelivery(),
        owner="benchmark",
        tell_customer_on_assign=False,
    )
    admin = AgentView(id=1, display_name="Max", username="max", role=Role.ADMIN, online=True)
    return CommandContext(CommandRequest("", admin, None, service), REGISTRY)


def parse_once(line: str, ctx: CommandContext) -> str:
    try:
        spec, _ = REGISTRY.parse(line, ctx)
    except CommandRejected as rejected:
        return rejected.outcome.value
    return spec.name


def time_line(line: str, ctx: CommandContext, *, rounds: int, repeat: int) -> list[float]:
    """Milliseconds per parse, one figure per round."""
    results = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            parse_once(line, ctx)
        results.append((time.perf_counter() - start) * 1000 / repeat)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2000, help="parses per round and line")
    args = parser.parse_args(argv)
    ctx = context()
    print(f"{'line':<58} {'parsed as':<12} {'best µs':>8} {'median µs':>10}")
    worst = 0.0
    for line in LINES:
        rounds = time_line(line, ctx, rounds=args.rounds, repeat=args.repeat)
        best, median = min(rounds), statistics.median(rounds)
        worst = max(worst, median)
        shown = line if len(line) <= 57 else line[:56] + "…"
        print(f"{shown:<58} {parse_once(line, ctx):<12} {best * 1000:>8.1f} {median * 1000:>10.1f}")
    verdict = "within" if worst < TARGET_MS else "OVER"
    print(
        f"\nslowest line (median of {args.rounds} rounds of {args.repeat}): {worst * 1000:.1f} µs,"
    )
    print(f"{verdict} the {TARGET_MS:.0f} ms target")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
