"""Load on the Telegram path: many customers posting updates to the webhook.

Starts one `helpline serve` process on a fresh SQLite database with Telegram pointed at a
fake Bot API served by this process, and drives the webhook with real Update JSON.

    .venv/bin/python -m benchmarks.telegram_load --customers 200 --seconds 20
    .venv/bin/python -m benchmarks.telegram_load --paced --customers 60 --handoffs 6

Unpaced (the default), Telegram's limits are switched off in Helpline and the fake does not
enforce them: every customer asks sample-FAQ questions one after another, and the report
gives updates accepted and answered per second, latency from posting the update to the
answer reaching the Bot API (p50/p99), and the server's peak memory.

`--paced` keeps Helpline's default limits and an agents' chat, has some customers ask for
a person (a topic each, every later message mirrored), and waits until everything owed
has arrived: it reports the fake's limit violations (none allowed), and checks that no
message was lost or sent twice.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import itertools
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import aiohttp

from benchmarks.widget_load import (
    _free_port,
    cpu_seconds,
    peak_rss_mb,
    percentile,
    wait_healthy,
)
from bot.process import new_event_loop
from tests.fakes.telegram_api import TOKEN, Call, FakeTelegram, running

SECRET = "bench-secret"
AGENTS_CHAT = -1009999999999
HELPLINE = [sys.executable, "-m", "bot.cli"]
REPLY_TIMEOUT = 10.0


@dataclass
class Results:
    accepted: int = 0
    answered: list[float] = field(default_factory=list)
    errors: int = 0


def questions() -> list[str]:
    raw = resources.files("knowledge").joinpath("sample_faq.json").read_text("utf-8")
    return [e["question"] for e in json.loads(raw)["faq"] if e["lang"] == "en"]


_UPDATE_IDS = itertools.count(1)
_MESSAGE_IDS = itertools.count(1)


def rotated(items: list[str], by: int) -> list[str]:
    shift = by % len(items)
    return items[shift:] + items[:shift]


class Driver:
    def __init__(self, url: str, fake: FakeTelegram) -> None:
        self.url = url
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.update_ids = _UPDATE_IDS  # shared: a repeated id would be a redelivery
        self.message_ids = _MESSAGE_IDS
        fake.on_call = self.arrived

    def arrived(self, call: Call) -> None:
        if call.method == "sendMessage" and call.status == 200 and call.chat_id is not None:
            future = self.waiting.pop(call.chat_id, None)
            if future is not None and not future.done():
                future.set_result(call.at)

    def update(self, chat: int, text: str) -> dict[str, object]:
        return {
            "update_id": next(self.update_ids),
            "message": {
                "message_id": next(self.message_ids),
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": f"C{chat}"},
                "from": {
                    "id": chat,
                    "is_bot": False,
                    "first_name": f"C{chat}",
                    "language_code": "en",
                },
                "text": text,
            },
        }

    async def post(self, session: aiohttp.ClientSession, chat: int, text: str) -> bool:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with session.post(
            f"{self.url}/telegram/webhook", json=self.update(chat, text), headers=headers
        ) as response:
            await response.read()
            return response.status == 200


async def customer(
    driver: Driver,
    session: aiohttp.ClientSession,
    chat: int,
    texts: list[str],
    stop_at: float,
    results: Results,
    *,
    once: bool = False,
) -> None:
    loop = asyncio.get_running_loop()
    for text in texts if once else itertools.cycle(texts):
        if time.perf_counter() >= stop_at:
            return
        future: asyncio.Future[float] = loop.create_future()
        driver.waiting[chat] = future
        started = time.monotonic()
        if not await driver.post(session, chat, text):
            results.errors += 1
            continue
        results.accepted += 1
        try:
            arrived = await asyncio.wait_for(future, REPLY_TIMEOUT)
        except TimeoutError:
            results.errors += 1
            continue
        results.answered.append(arrived - started)


async def unpaced(
    url: str, fake: FakeTelegram, customers: int, seconds: float
) -> tuple[Results, float]:
    driver = Driver(url, fake)
    texts = questions()
    results = Results()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                customer(driver, session, 1000 + n, rotated(texts, n), started + seconds, results)
                for n in range(customers)
            )
        )
        return results, time.perf_counter() - started


async def paced(
    url: str, fake: FakeTelegram, customers: int, handoffs: int, messages: int
) -> dict[str, int]:
    """Customers at Telegram's pace; returns what the fake saw of the limits."""
    driver = Driver(url, fake)
    texts = questions()
    results = Results()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = []
        for n in range(customers):
            chat = 1000 + n
            if n < handoffs:
                tasks.append(handoff_customer(driver, session, chat, messages))
            else:
                own = [f"{texts[(n + k) % len(texts)]} (c{chat} m{k})" for k in range(messages)]
                tasks.append(customer(driver, session, chat, own, float("inf"), results, once=True))
        await asyncio.gather(*tasks)
    return {"accepted": results.accepted, "errors": results.errors}


async def handoff_customer(
    driver: Driver, session: aiohttp.ClientSession, chat: int, messages: int
) -> None:
    await driver.post(session, chat, f"I want to talk to a human please (c{chat})")
    for k in range(messages):
        await asyncio.sleep(0.5)
        await driver.post(session, chat, f"more details from c{chat}, part {k}")


def audit(database: Path, fake: FakeTelegram) -> dict[str, int]:
    """Compare what Helpline owed (its database) with what reached the Bot API."""
    with sqlite3.connect(database) as db:
        owed = Counter(
            int(chat)
            for (chat,) in db.execute(
                "SELECT i.chat_id FROM delivery d JOIN message m ON m.id = d.message_id "
                "JOIN conversation c ON c.id = m.conversation_id "
                "JOIN channel_identity i ON i.id = c.identity_id WHERE d.target = 'customer'"
            )
        )
        unsent = db.execute("SELECT count(*) FROM delivery WHERE status != 'sent'").fetchone()[0]
        mirrored = [
            text
            for (text,) in db.execute(
                "SELECT m.text FROM delivery d JOIN message m ON m.id = d.message_id "
                "WHERE d.target = 'staff' AND m.direction = 'incoming'"
            )
        ]
        summarised = [
            text
            for (text,) in db.execute(
                "SELECT text FROM message WHERE direction = 'incoming' AND ticket_id IS NOT NULL"
            )
        ]
    received = Counter(c.chat_id for c in fake.sent(ok_only=True) if c.chat_id and c.chat_id > 0)
    group = [c.text for c in fake.sent(AGENTS_CHAT, ok_only=True)]
    lost = sum(max(0, owed[chat] - received[chat]) for chat in owed)
    twice = sum(max(0, received[chat] - owed[chat]) for chat in received)
    seen = {text: sum(text in post for post in group) for text in set(mirrored) | set(summarised)}
    return {
        "customer messages owed": sum(owed.values()),
        "customer messages lost": lost,
        "customer messages sent twice": twice,
        "deliveries not sent": unsent,
        "mirrored messages missing": sum(1 for count in seen.values() if count == 0),
        "mirrored messages shown twice": sum(1 for count in seen.values() if count > 1),
        "group posts": len(group),
        "topics created": len(fake.methods("createForumTopic")),
    }


async def wait_until_settled(database: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            pending = db.execute(
                "SELECT (SELECT count(*) FROM delivery WHERE status = 'pending') + "
                "(SELECT count(*) FROM message WHERE status = 'received')"
            ).fetchone()[0]
        if pending == 0:
            return
        await asyncio.sleep(1.0)
    print(f"warning: work still pending after {within:.0f}s")


def server_env(workdir: str, api_url: str, port: int, *, paced_mode: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env.update(
        {
            "HELPLINE_DATABASE_URL": f"sqlite://{workdir}/bench.sqlite3",
            "HELPLINE_LOG_LEVEL": "WARNING",
            "HELPLINE_LLM_PROVIDER": "none",
            "HELPLINE_TELEGRAM_TOKEN": TOKEN,
            "HELPLINE_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "HELPLINE_TELEGRAM_API_URL": api_url,
            "HELPLINE_PORT": str(port),
        }
    )
    if paced_mode:
        env["HELPLINE_TELEGRAM_AGENT_CHAT_ID"] = str(AGENTS_CHAT)
    else:
        for name in (
            "CHAT_MESSAGES_PER_SECOND",
            "MESSAGES_PER_SECOND",
            "GROUP_MESSAGES_PER_MINUTE",
        ):
            env[f"HELPLINE_TELEGRAM_{name}"] = "0"
    return env


async def run(args: argparse.Namespace) -> None:
    fake = FakeTelegram(keep_calls=args.paced)
    async with running(fake) as (_, api_url):
        port = _free_port()
        workdir = tempfile.mkdtemp(prefix="helpline-tg-bench-")
        atexit.register(shutil.rmtree, workdir, ignore_errors=True)
        env = server_env(workdir, api_url, port, paced_mode=args.paced)
        server = subprocess.Popen([*HELPLINE, "serve"], env=env)  # noqa: ASYNC220 (once)
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_healthy(url, server)
            if args.paced:
                started = time.perf_counter()
                counts = await paced(url, fake, args.customers, args.handoffs, args.messages)
                await wait_until_settled(Path(workdir) / "bench.sqlite3", args.settle)
                elapsed = time.perf_counter() - started
                report_paced(
                    args, counts, audit(Path(workdir) / "bench.sqlite3", fake), fake, elapsed
                )
            else:
                await unpaced(url, fake, args.customers, args.warmup)
                cpu_before, own_before = cpu_seconds(server.pid), time.process_time()
                results, elapsed = await unpaced(url, fake, args.customers, args.seconds)
                cpu = cpu_seconds(server.pid) - cpu_before
                own = time.process_time() - own_before
                report_unpaced(args, results, elapsed, peak_rss_mb(server.pid), (cpu, own))
        finally:
            server.terminate()
            server.wait(timeout=30)


def report_unpaced(
    args: argparse.Namespace,
    results: Results,
    elapsed: float,
    memory: float,
    cpu: tuple[float, float],
) -> None:
    """`cpu`: the server's and this process's (customers and fake Bot API) CPU seconds."""
    answered = len(results.answered)
    print(f"customers           {args.customers}")
    rate = results.accepted / elapsed
    print(f"updates accepted    {results.accepted} in {elapsed:.1f}s  ({rate:,.0f}/s)")
    print(f"answers sent        {answered}  ({answered / elapsed:,.0f}/s)")
    p50 = statistics.median(results.answered) * 1000
    print(f"latency p50         {p50:.1f} ms (webhook → sendMessage)")
    print(f"latency p99         {percentile(results.answered, 0.99) * 1000:.1f} ms")
    print(f"errors/timeouts     {results.errors}")
    server, own = (seconds / max(1, answered) * 1000 for seconds in cpu)
    print(f"server CPU          {server:.2f} ms per message")
    print(f"customers' and fake Bot API's CPU  {own:.2f} ms per message (same cores)")
    print(f"server peak RSS     {memory:.0f} MB")


def report_paced(
    args: argparse.Namespace,
    counts: dict[str, int],
    audited: dict[str, int],
    fake: FakeTelegram,
    elapsed: float,
) -> None:
    print(f"customers           {args.customers} ({args.handoffs} handed to a person)")
    print(f"updates accepted    {counts['accepted'] + args.handoffs * (args.messages + 1)}")
    print(f"finished in         {elapsed:.1f}s")
    for name, value in audited.items():
        print(f"{name:<32}{value}")
    print(f"limit violations    {len(fake.violations)}")
    for violation in fake.violations[:5]:
        print(f"  {violation}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--paced", action="store_true")
    parser.add_argument("--handoffs", type=int, default=6)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--settle", type=float, default=240.0)
    # The customers and the fake Bot API share the two cores with the server: the cheaper
    # loop leaves it more.
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
