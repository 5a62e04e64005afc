"""The `helpline` command as admins run it: a real process on a real database file."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.waiting import eventually
from tests.widget_client import WidgetClient

HELPLINE = str(Path(sys.executable).with_name("helpline"))
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HELPLINE, *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "HELPLINE_DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3"}


def test_import_replaces_the_sample_faq_and_updates_by_id(env: dict[str, str]) -> None:
    before = run("faq", "list", env=env)
    assert before.returncode == 0 and "password-reset" in before.stdout

    imported = run("faq", "import", str(EXAMPLES / "faq.json"), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "sample entries removed" in imported.stdout

    listed = run("faq", "list", env=env).stdout
    assert "password-reset" not in listed and "opening-hours" in listed

    again = run("faq", "import", str(EXAMPLES / "faq.csv"), env=env)
    assert again.returncode == 0 and "0 new" in again.stdout


def test_a_broken_file_names_the_row_and_imports_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "id,question,answer\nok-1,How long is delivery?,Two days.\nbad-2,Where is it?,\n",
        encoding="utf-8",
    )
    result = run("faq", "import", str(broken), env=env)
    assert result.returncode == 1
    assert "row 3" in result.stderr and "Traceback" not in result.stderr
    assert "ok-1" not in run("faq", "list", env=env).stdout


def test_search_shows_the_match_the_bot_would_use(env: dict[str, str]) -> None:
    result = run("faq", "search", "how", "can", "I", "reset", "my", "password", env=env)
    assert result.returncode == 0
    first = result.stdout.splitlines()[0]
    assert first.startswith("*") and "password-reset" in first
    unrelated = run("faq", "search", "what is the airspeed of a swallow", env=env)
    assert "no confident match" in unrelated.stdout


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def server(env: dict[str, str], tmp_path: Path) -> AsyncIterator[Server]:
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(  # noqa: ASYNC220 (started once, before any traffic)
            [HELPLINE, "serve", "--port", str(port)],
            env={**env, "HELPLINE_OUTBOX_POLL_SECONDS": "0.2"},
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        try:
            async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return process.poll() is not None

    running = Server(process, url, log)
    await eventually(healthy, within=30)
    assert process.poll() is None, running.output()
    yield running
    if process.poll() is None:
        process.kill()
        process.wait()


async def test_faq_imported_from_the_cli_reaches_the_running_server(
    server: Server, env: dict[str, str]
) -> None:
    result = await asyncio.to_thread(run, "faq", "import", str(EXAMPLES / "faq.json"), env=env)
    assert result.returncode == 0, result.stderr
    async with aiohttp.ClientSession() as session:
        answer = ""
        for _ in range(40):  # the server notices the new FAQ revision within seconds
            # A new visitor each time: an unanswered question hands the first one to a person.
            visitor = await WidgetClient.connect(
                session, server.url.replace("http", "ws") + "/widget/ws"
            )
            await visitor.say("What are your opening hours?")
            answer = (await visitor.next_reply())["text"]
            if "9:00" in answer:
                break
            await asyncio.sleep(0.5)
        assert "9:00" in answer, server.output()


async def test_sigterm_stops_the_server_cleanly(server: Server) -> None:
    async with aiohttp.ClientSession() as session:
        visitor = await WidgetClient.connect(
            session, server.url.replace("http", "ws") + "/widget/ws"
        )
        await visitor.say("How do I reset my password?")
        await visitor.next_reply()
        server.process.send_signal(signal.SIGTERM)
        closing = await visitor.ws.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    exit_code = await asyncio.to_thread(server.process.wait, 15)
    assert exit_code == 0, server.output()
    assert "Traceback" not in server.output()


async def test_the_module_serves_when_run_as_a_script(env: dict[str, str], tmp_path: Path) -> None:
    """`python -m bot.cli serve` (how the benchmarks start it) works like `helpline serve`."""
    port = _free_port()
    with (tmp_path / "module.log").open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(  # noqa: ASYNC220 (started once, before any traffic)
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/healthz"

    async def healthy() -> bool:
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                return response.status == 200
        except aiohttp.ClientError:
            return process.poll() is not None

    try:
        await eventually(healthy, within=30)
        assert process.poll() is None, (tmp_path / "module.log").read_text()
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 15)
