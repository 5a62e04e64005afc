"""Load on the web widget path: many visitors asking FAQ questions over WebSockets.

Starts one `helpline serve` process on a fresh SQLite database, connects N visitors that
each ask a sample-FAQ question, wait for the answer and ask the next, and reports answers
per second, latency from sending to the answer arriving (p50/p99) and the server's peak
memory.

    .venv/bin/python -m benchmarks.widget_load --visitors 50 --seconds 20
    .venv/bin/python -m benchmarks.widget_load --visitors 50 --seconds 20 --rate 1000

Without `--rate` every visitor asks again as soon as it is answered: the throughput the
server reaches, with latency set by the queue (visitors / throughput). With `--rate` the
visitors together ask that many questions per second, each on a fixed schedule, which
gives the latency at that load; it is counted from when a question was due, so a server
that falls behind is charged for the questions it held up, too.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import aiohttp

from bot.process import new_event_loop

HELPLINE = [sys.executable, "-m", "bot.cli"]
REPLY_TIMEOUT = 5.0


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    wrong: int = 0
    """Answered with another FAQ entry's answer."""
    declined: int = 0
    """Handed to the team (the matcher was not confident)."""
    errors: int = 0


def sample_questions() -> list[tuple[str, str, str]]:
    """(question, language, expected answer) for every sample FAQ question and paraphrase."""
    raw = resources.files("knowledge").joinpath("sample_faq.json").read_text("utf-8")
    questions = []
    for entry in json.loads(raw)["faq"]:
        for text in [entry["question"], *entry.get("paraphrases", [])]:
            questions.append((text, entry["lang"], entry["answer"]))
    return questions


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def visitor(
    session: aiohttp.ClientSession,
    ws_url: str,
    questions: list[tuple[str, str, str]],
    offset: int,
    stop_at: float,
    results: Results,
    answers: frozenset[str],
    period: float | None = None,
    phase: float = 0.0,
) -> None:
    """Ask question after question (one per `period` seconds, if given); a visitor handed
    to a person leaves and a new one comes."""
    turn = offset
    due = time.perf_counter() + phase
    while time.perf_counter() < stop_at:
        async with session.ws_connect(ws_url) as ws:
            await ws.send_json({"type": "hello", "token": None, "language": "en"})
            await ws.receive_json()
            while time.perf_counter() < stop_at:
                text, _language, expected = questions[turn % len(questions)]
                turn += 1
                if period is None:
                    started = time.perf_counter()
                else:
                    started, due = due, due + period
                    if (wait := started - time.perf_counter()) > 0:
                        await asyncio.sleep(wait)
                await ws.send_json({"type": "message", "id": uuid.uuid4().hex, "text": text})
                answer = await _answer(ws, results)
                if answer is None:
                    break
                results.latencies.append(time.perf_counter() - started)
                if answer != expected:
                    if answer in answers:
                        results.wrong += 1
                        continue
                    results.declined += 1
                    break  # handed to a person: the bot stays quiet for this visitor now


async def _answer(ws: aiohttp.ClientWebSocketResponse, results: Results) -> str | None:
    while True:
        try:
            frame = await ws.receive_json(timeout=REPLY_TIMEOUT)
        except TimeoutError:
            results.errors += 1
            return None
        if frame["type"] == "error":
            results.errors += 1
            return None
        if frame["type"] == "message" and frame["message"]["direction"] == "outgoing":
            return str(frame["message"]["text"])


async def drive(
    url: str, visitors: int, seconds: float, rate: float | None = None
) -> tuple[Results, float]:
    questions = sample_questions()
    answers = frozenset(answer for _, _, answer in questions)
    results = Results()
    connector = aiohttp.TCPConnector(limit=0)
    period = visitors / rate if rate else None
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        stop_at = started + seconds
        await asyncio.gather(
            *(
                visitor(
                    session,
                    url,
                    questions,
                    n * 7,
                    stop_at,
                    results,
                    answers,
                    period,
                    phase=(period or 0.0) * n / visitors,
                )
                for n in range(visitors)
            )
        )
        elapsed = time.perf_counter() - started
    return results, elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def wait_healthy(url: str, process: subprocess.Popen[bytes], attempts: int = 300) -> None:
    """Poll `/healthz` every 0.1 s until it answers 200."""
    async with aiohttp.ClientSession() as session:
        for _ in range(attempts):
            if process.poll() is not None:
                raise SystemExit("the server exited during start-up")
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not become healthy")


def server_environment(workdir: str) -> dict[str, str]:
    """A server on a fresh SQLite file in `workdir`, no model, no per-socket rate limit."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")},
        "HELPLINE_DATABASE_URL": f"sqlite://{workdir}/bench.sqlite3",
        "HELPLINE_LOG_LEVEL": "WARNING",
        "HELPLINE_LLM_PROVIDER": "none",
        "HELPLINE_WIDGET_MESSAGES_PER_MINUTE": "0",  # one socket stands for many visitors
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--rate", type=float, help="questions per second from all visitors (default: no pause)"
    )
    args = parser.parse_args()

    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="helpline-bench-")
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    server = subprocess.Popen(
        [*HELPLINE, "serve", "--port", str(port)], env=server_environment(workdir)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # The visitors share the two cores with the server: the cheaper loop leaves it more.
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(wait_healthy(url, server))
            ws_url = url.replace("http", "ws") + "/widget/ws"
            runner.run(drive(ws_url, args.visitors, args.warmup))
            cpu_before = cpu_seconds(server.pid)
            own_before = time.process_time()
            results, elapsed = runner.run(drive(ws_url, args.visitors, args.seconds, args.rate))
            cpu = cpu_seconds(server.pid) - cpu_before
            own_cpu = time.process_time() - own_before
            memory = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    answered = len(results.latencies)
    offered = f"{args.rate:,.0f} questions/s on a schedule" if args.rate else "no pause"
    print(f"visitors            {args.visitors}  ({offered})")
    print(f"answers             {answered} in {elapsed:.1f}s  ({answered / elapsed:,.0f}/s)")
    print(f"latency p50         {statistics.median(results.latencies) * 1000:.1f} ms")
    print(f"latency p99         {percentile(results.latencies, 0.99) * 1000:.1f} ms")
    print(f"wrong FAQ answers   {results.wrong}   declined (to the team) {results.declined}")
    print(f"errors/timeouts     {results.errors}")
    print(f"server CPU          {cpu / max(1, answered) * 1000:.2f} ms per answer")
    print(f"visitors' CPU       {own_cpu / max(1, answered) * 1000:.2f} ms per answer (same cores)")
    print(f"server peak RSS     {memory:.0f} MB")


if __name__ == "__main__":
    main()
