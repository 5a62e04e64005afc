"""The tools the model may call, and how their arguments become typed signals.

Handoff and safety are tool calls rather than markers in the text, so they keep working
whatever wording the model or the operator's instructions use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.llm.types import ToolName, ToolSpec
from bot.types import TicketPriority, TicketRequest

MAX_REASON_CHARS = 500
MAX_CATEGORY_CHARS = 64

HANDOFF_RECORDED = (
    "Recorded: a person from the support team will take over this conversation. "
    "Now write one or two short sentences telling the customer so; do not promise a time."
)
SAFE_RECORDED = "Recorded."


def support_tools(*, categories: Sequence[str] = (), search: bool = True) -> tuple[ToolSpec, ...]:
    """The three support tools; `categories` become the allowed values of `category`."""
    category: dict[str, Any] = {
        "type": "string",
        "description": "Short topic of the question, e.g. billing, login, delivery.",
    }
    if categories:
        category = {"type": "string", "enum": list(categories)}
    tools = [
        ToolSpec(
            name=ToolName.HANDOFF_TO_HUMAN,
            description=(
                "Hand the conversation to a human agent. Call it when the customer asks for a "
                "person, when the knowledge provided does not answer the question, when the "
                "request needs an action or a decision only staff can take (refunds, account "
                "changes, exceptions), or when the customer is upset or the matter is "
                "sensitive (security, data loss, legal, billing disputes, threats)."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "reason": {
                        "type": "string",
                        "description": "One sentence for the agent: why a person is needed.",
                    },
                    "priority": {
                        "type": "string",
                        "enum": [priority.value for priority in TicketPriority],
                        "description": "normal unless the matter is urgent or the customer "
                        "is angry; urgent only for outages, security or safety.",
                    },
                    "category": category,
                },
                "required": ["reason", "priority", "category"],
            },
        ),
        ToolSpec(
            name=ToolName.MARK_ANSWER_AS_SAFE,
            description=(
                "Call it, before your final answer, only when that answer is fully supported "
                "by the knowledge provided, promises nothing beyond it, and can be sent to "
                "the customer without a person checking it first."
            ),
            parameters={
                "type": "object",
                "properties": {"category": {**category, "description": "Topic of the question."}}
                if categories
                else {},
            },
        ),
    ]
    if search:
        tools.insert(
            0,
            ToolSpec(
                name=ToolName.SEARCH_KNOWLEDGE,
                description=(
                    "Search the company's help articles and FAQ. Use it when the knowledge "
                    "provided does not cover the question; rephrase the question as a short "
                    "search query."
                ),
                parameters={
                    "type": "object",
                    "properties": {"query": {"type": "string", "description": "What to look up."}},
                    "required": ["query"],
                },
            ),
        )
    return tuple(tools)


def parse_handoff(arguments: Mapping[str, Any]) -> TicketRequest:
    """Read the model's handoff arguments leniently: a bad value becomes a safe default."""
    reason = _text(arguments.get("reason"), MAX_REASON_CHARS) or "the AI asked for a person"
    priority = _priority(arguments.get("priority"))
    category = _text(arguments.get("category"), MAX_CATEGORY_CHARS)
    return TicketRequest(
        reason=reason,
        priority=priority,
        category=category.lower().replace(" ", "_") if category else None,
    )


def search_query(arguments: Mapping[str, Any]) -> str | None:
    query = arguments.get("query")
    if isinstance(query, str) and query.strip():
        return query.strip()
    return None


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:limit] or None


def _priority(value: object) -> TicketPriority:
    if isinstance(value, str):
        try:
            return TicketPriority(value.strip().lower())
        except ValueError:
            pass
    return TicketPriority.NORMAL
