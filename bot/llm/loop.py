"""The tool loop every provider shares: ask, run the tools the model called, ask again.

A provider supplies an `Exchange` that speaks its wire format; this module decides what a
tool call means. `search_knowledge` runs through the caller's callback; `handoff_to_human`
and `mark_answer_as_safe` are recorded and acknowledged so the model can finish its text.
After `max_rounds` rounds with tool calls the model is asked once more with tools
disabled, so a reply always ends in text.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.llm.tools import HANDOFF_RECORDED, SAFE_RECORDED, parse_handoff, search_query
from bot.llm.types import SearchKnowledge, ToolCall, ToolName, Usage
from bot.types import TicketRequest

log = logging.getLogger(__name__)

MAX_TOOL_RESULT_CHARS = 12_000


@dataclass(frozen=True, slots=True)
class RequestedCall:
    """A tool call as the model sent it; `arguments` is None when its JSON did not parse."""

    call_id: str
    name: str
    arguments: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Round:
    """One response of the model."""

    text: str
    calls: tuple[RequestedCall, ...]
    usage: Usage
    model: str
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class CallResult:
    call: RequestedCall
    content: str
    failed: bool = False


class Exchange(Protocol):
    """One conversation with a provider in its own wire format."""

    async def send(self, *, tools_allowed: bool) -> Round: ...

    def answer(self, results: Sequence[CallResult]) -> None:
        """Append the model's response and our tool results, ready for the next `send`."""


@dataclass(frozen=True, slots=True)
class LoopOutcome:
    text: str
    tool_calls: tuple[ToolCall, ...]
    handoff: TicketRequest | None
    marked_safe: bool
    usage: Usage
    model: str
    rounds: int
    truncated: bool


async def run_tool_loop(
    exchange: Exchange,
    *,
    offered: Collection[str],
    search: SearchKnowledge | None,
    max_rounds: int,
) -> LoopOutcome:
    usage = Usage()
    calls: list[ToolCall] = []
    handoff: TicketRequest | None = None
    marked_safe = False
    text = ""
    rounds = 0
    while True:
        tools_allowed = bool(offered) and rounds < max_rounds
        response = await exchange.send(tools_allowed=tools_allowed)
        rounds += 1
        usage += response.usage
        text = response.text.strip() or text
        if not response.calls or not tools_allowed:
            return LoopOutcome(
                text=text,
                tool_calls=tuple(calls),
                handoff=handoff,
                marked_safe=marked_safe,
                usage=usage,
                model=response.model,
                rounds=rounds,
                truncated=response.truncated,
            )
        results: list[CallResult] = []
        for call in response.calls:
            result = await _run(call, offered, search)
            results.append(result)
            calls.append(
                ToolCall(call.name, dict(call.arguments or {}), result.content, result.failed)
            )
            if result.failed:
                continue
            if call.name == ToolName.HANDOFF_TO_HUMAN:
                handoff = _more_urgent(handoff, parse_handoff(call.arguments or {}))
            elif call.name == ToolName.MARK_ANSWER_AS_SAFE:
                marked_safe = True
        exchange.answer(results)


async def _run(
    call: RequestedCall, offered: Collection[str], search: SearchKnowledge | None
) -> CallResult:
    if call.name not in offered:
        return CallResult(call, f"Unknown tool {call.name!r}.", failed=True)
    if call.arguments is None:
        return CallResult(call, "The arguments were not valid JSON; try again.", failed=True)
    if call.name == ToolName.HANDOFF_TO_HUMAN:
        return CallResult(call, HANDOFF_RECORDED)
    if call.name == ToolName.MARK_ANSWER_AS_SAFE:
        return CallResult(call, SAFE_RECORDED)
    query = search_query(call.arguments)
    if query is None:
        return CallResult(call, "Give a non-empty query.", failed=True)
    if search is None:
        return CallResult(call, "Search is not available; answer without it.", failed=True)
    try:
        found = await search(query)
    except Exception:
        log.exception("search_knowledge failed")
        return CallResult(call, "The search failed; answer without it.", failed=True)
    return CallResult(call, found[:MAX_TOOL_RESULT_CHARS] or "Nothing found.")


def _more_urgent(current: TicketRequest | None, new: TicketRequest) -> TicketRequest:
    if current is None or new.priority.rank > current.priority.rank:
        return new
    return current
