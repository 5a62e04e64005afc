"""Machine instructions the server executes per widget answer: a CPU cost that holds still.

Timings on a shared machine drift (here by up to half within an hour), which hides a 5%
change. Valgrind's callgrind counts the instructions a process executes instead, the same
for the same work whatever else the machine does. This starts `helpline serve` under
callgrind with counting off, warms it up, counts while visitors ask sample-FAQ questions
over the widget socket, and divides by the answers. Needs Debian's `valgrind`.

    .venv/bin/python -m benchmarks.instructions --visitors 10 --questions 30

Under callgrind the server runs about 50 times slower, so work done once a second
(checkpoints, polling) weighs more here than in a real run; compare runs with the same
arguments only.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import aiohttp

from benchmarks.widget_load import (
    HELPLINE,
    _free_port,
    sample_questions,
    server_environment,
    wait_healthy,
)

ANSWER_TIMEOUT = 120.0
"""Seconds to wait for one answer: callgrind slows the server down a lot."""


async def ask(url: str, offset: int, questions: int) -> tuple[int, int]:
    """One visitor asks up to `questions` questions in turn; (answered, answered right).

    A visitor the FAQ does not answer is handed to a person and stops, as in `widget_load`.
    """
    sample = sample_questions()
    answered = right = 0
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_json({"type": "hello", "token": None, "language": "en"})
        await ws.receive_json(timeout=ANSWER_TIMEOUT)
        for turn in range(questions):
            text, _language, expected = sample[(offset + turn) % len(sample)]
            await ws.send_json({"type": "message", "id": uuid.uuid4().hex, "text": text})
            while True:
                frame = await ws.receive_json(timeout=ANSWER_TIMEOUT)
                if frame["type"] == "message" and frame["message"]["direction"] == "outgoing":
                    break
            answered += 1
            if frame["message"]["text"] != expected:
                break
            right += 1
    return answered, right


async def visitors(url: str, count: int, questions: int) -> tuple[int, int]:
    found = await asyncio.gather(*(ask(url, n * 7, questions) for n in range(count)))
    return sum(a for a, _ in found), sum(r for _, r in found)


def callgrind(pid: int, switch: str) -> None:
    subprocess.run(["callgrind_control", "-i", switch, str(pid)], check=True, capture_output=True)


def total_instructions(out_file: Path) -> int:
    """The `totals:` line callgrind writes last (its `summary:` header counts from start)."""
    for line in reversed(out_file.read_text().splitlines()):
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"no instruction total in {out_file}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=10)
    parser.add_argument("--questions", type=int, default=30, help="per visitor")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind (apt-get install -y valgrind)")

    workdir = Path(tempfile.mkdtemp(prefix="helpline-instructions-"))
    port = _free_port()
    out_file = workdir / "callgrind.out"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out_file}",
        *HELPLINE,
        "serve",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(
        command, env=server_environment(str(workdir)), stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_healthy(url, server, attempts=6000))
        socket_url = url.replace("http", "ws") + "/widget/ws"
        asyncio.run(visitors(socket_url, 5, 10))  # warm-up: caches, first connections
        callgrind(server.pid, "on")
        answered, right = asyncio.run(visitors(socket_url, args.visitors, args.questions))
        callgrind(server.pid, "off")
    finally:
        server.terminate()
        server.wait(timeout=300)
    instructions = total_instructions(out_file)
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"answers             {answered} ({right} from the right FAQ entry)")
    print(f"instructions        {instructions / max(1, answered) / 1e6:.2f} million per answer")


if __name__ == "__main__":
    main()
