"""Load on the AI path: many conversations at once, a model API of fixed latency.

Starts a fake model API (Anthropic's or OpenAI's wire protocol) in its own process that
answers every request after exactly `--latency` seconds, and one `helpline serve` process
on a fresh SQLite database pointed at it. `--conversations` web-widget visitors then each
hold a `--turns`-turn conversation of questions the FAQ cannot answer, arriving spread over
`--ramp` seconds, each taking `--think` seconds on average to read an answer and type the
next question, so all conversations are open at once. Reports reply latency (p50/p99),
the overhead Helpline adds on top of the model's own latency, the slowest conversation
(starvation), the server's CPU time per answer, and tokens per answered question.

    .venv/bin/python -m benchmarks.ai_load --conversations 1000 --latency 1
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from benchmarks.widget_load import _free_port, cpu_seconds, peak_rss_mb, percentile, wait_healthy
from bot.process import new_event_loop

HELPLINE = [sys.executable, "-m", "bot.cli"]
REPLY_TIMEOUT = 60.0
QUESTIONS = (
    "Do you have the blue rain jacket in size XL?",
    "Can I pick up my order at the Lyon store tomorrow?",
    "Is the coffee grinder compatible with espresso beans?",
    "Which warranty does the dishwasher come with?",
    "Could you recommend a gift for a ten year old?",
)
ANSWER = (
    "Thanks for asking! Yes, we have it in stock, and you can order it online or pick it up "
    "in any of our stores. Anything else I can help you with?"
)


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    conversation_times: list[float] = field(default_factory=list)
    errors: int = 0


def serve_fake(provider: str, port: int, latency: float) -> None:
    """The fake model API, run as its own process (`--serve-fake`)."""
    from tests.fakes.anthropic_api import Answer, FakeAnthropicAPI, Script
    from tests.fakes.openai_api import FakeOpenAIAPI

    script = Script(default=lambda call: Answer(ANSWER, delay=latency))
    fake = (FakeAnthropicAPI if provider == "anthropic" else FakeOpenAIAPI)(script=script)
    web.run_app(
        fake.app(), host="127.0.0.1", port=port, print=None, access_log=None, loop=new_event_loop()
    )


async def conversation(
    session: aiohttp.ClientSession,
    url: str,
    turns: int,
    start_at: float,
    think: float,
    results: Results,
) -> None:
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    began = time.perf_counter()
    async with session.ws_connect(url) as ws:
        await ws.send_json({"type": "hello", "token": None, "language": "en"})
        await ws.receive_json()
        for turn in range(turns):
            if turn:  # the customer reads the answer and types the next question
                await asyncio.sleep(random.uniform(think / 2, think * 1.5))
            question = f"{QUESTIONS[turn % len(QUESTIONS)]} ({uuid.uuid4().hex[:6]})"
            sent = time.perf_counter()
            await ws.send_json({"type": "message", "id": uuid.uuid4().hex, "text": question})
            if not await _reply(ws):
                results.errors += 1
                return
            results.latencies.append(time.perf_counter() - sent)
    results.conversation_times.append(time.perf_counter() - began)


async def _reply(ws: aiohttp.ClientWebSocketResponse) -> bool:
    deadline = time.perf_counter() + REPLY_TIMEOUT
    while (left := deadline - time.perf_counter()) > 0:
        try:
            frame = await ws.receive_json(timeout=left)
        except TimeoutError:
            return False
        if frame["type"] == "error":
            return False
        if frame["type"] == "message" and frame["message"]["direction"] == "outgoing":
            return True
    return False


async def drive(
    url: str, conversations: int, turns: int, ramp: float, think: float
) -> tuple[Results, float]:
    results = Results()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                conversation(
                    session, url, turns, started + ramp * n / conversations, think, results
                )
                for n in range(conversations)
            )
        )
        return results, time.perf_counter() - started


def token_report(database: Path) -> tuple[float, float, int]:
    """Mean tokens in and out per answered question, and how many were answered."""
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT avg(ai_input_tokens), avg(ai_output_tokens), count(*) FROM message "
            "WHERE direction = 'incoming' AND answered_by = 'ai'"
        ).fetchone()
    return float(row[0] or 0), float(row[1] or 0), int(row[2])


def wait_port(port: int) -> None:
    for _ in range(300):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("the fake model API did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", choices=("anthropic", "openai"), default="anthropic")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--ramp", type=float, default=10.0)
    parser.add_argument(
        "--think",
        type=float,
        default=10.0,
        help="mean seconds a customer takes to read an answer and type the next question",
    )
    parser.add_argument("--serve-fake", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.provider, args.serve_fake, args.latency)
        return

    fake_port, port = _free_port(), _free_port()
    fake_command = [sys.executable, "-m", "benchmarks.ai_load", "--provider", args.provider]
    fake_command += ["--latency", str(args.latency), "--serve-fake", str(fake_port)]
    fake = subprocess.Popen(fake_command)
    workdir = tempfile.mkdtemp(prefix="helpline-ai-bench-")
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    database = Path(workdir) / "bench.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE_", "ANTHROPIC_"))}
    base = f"http://127.0.0.1:{fake_port}"
    env.update(
        {
            "HELPLINE_DATABASE_URL": f"sqlite://{database}",
            "HELPLINE_LOG_LEVEL": "WARNING",
            "HELPLINE_WIDGET_MESSAGES_PER_MINUTE": "0",
            "HELPLINE_LLM_PROVIDER": args.provider,
        }
    )
    if args.provider == "anthropic":
        env.update({"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": base})
    else:
        env.update({"OPENAI_API_KEY": "sk-openai-test", "OPENAI_BASE_URL": f"{base}/v1"})
    server = subprocess.Popen([*HELPLINE, "serve", "--port", str(port)], env=env)
    try:
        wait_port(fake_port)
        url = f"http://127.0.0.1:{port}"
        ws_url = url.replace("http", "ws") + "/widget/ws"
        # The customers and the fake share the two cores with the server: the cheaper loop
        # leaves it more.
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(wait_healthy(url, server))
            cpu_before = cpu_seconds(server.pid)
            results, elapsed = runner.run(
                drive(ws_url, args.conversations, args.turns, args.ramp, args.think)
            )
        memory = peak_rss_mb(server.pid)
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=30)
        fake.terminate()
        fake.wait(timeout=10)
    report(args, results, elapsed, memory, cpu, token_report(database))


def report(
    args: argparse.Namespace,
    results: Results,
    elapsed: float,
    memory: float,
    cpu: float,
    tokens: tuple[float, float, int],
) -> None:
    latencies = results.latencies
    overhead = [value - args.latency for value in latencies]
    rate = len(latencies) / elapsed
    slowest = max(results.conversation_times, default=float("nan"))
    lines = [
        ("provider", f"{args.provider} (fake, {args.latency:.1f}s per answer)"),
        ("conversations", f"{args.conversations} × {args.turns} turns, all open at once"),
        ("arrivals", f"over {args.ramp:.0f}s; {args.think:.0f}s mean between a customer's turns"),
        ("answers", f"{len(latencies)} in {elapsed:.1f}s ({rate:,.0f}/s)"),
        (
            "latency p50 / p99",
            f"{_ms(statistics.median(latencies))} / {_ms(percentile(latencies, 0.99))}",
        ),
        (
            "overhead p50 / p99",
            f"{_ms(statistics.median(overhead))} / {_ms(percentile(overhead, 0.99))}",
        ),
        ("slowest conversation", f"{slowest:.1f}s"),
        ("errors / timeouts", str(results.errors)),
        ("server CPU per answer", _ms(cpu / max(1, len(latencies)))),
        ("tokens per answer", f"{tokens[0]:.0f} in / {tokens[1]:.0f} out ({tokens[2]} answers)"),
        ("server peak RSS", f"{memory:.0f} MB"),
    ]
    for name, value in lines:
        print(f"{name:<22}{value}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


if __name__ == "__main__":
    main()
