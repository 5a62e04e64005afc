"""AI drafts: the answers the auto-send policy kept for a person to approve."""

from __future__ import annotations

from enum import StrEnum

from admin_commands.registry import CommandContext, command
from bot.types import Role


class DraftAction(StrEnum):
    SEND = "send"
    EDIT = "edit"
    DISCARD = "discard"


@command("draft", role=Role.AGENT)
async def draft(ctx: CommandContext, action: DraftAction, number: int) -> str:
    """Send, edit or discard an AI draft: `/draft send|edit|discard N` (the buttons do this).

    N is the customer message the draft answers, shown on its buttons. `send` delivers it
    as it is and resolves the ticket; `edit` drops it and shows you its text, to change and
    send as your own reply; `discard` drops it, and the ticket waits for an agent.
    """
    send = action is DraftAction.SEND
    outcome = await ctx.service.settle_draft(number, send=send, by=ctx.agent)
    if send:
        return "Draft sent to the customer."
    if action is DraftAction.EDIT:
        return f"Draft withdrawn. Change it and send it here as your reply:\n\n{outcome.text}"
    return "Draft discarded; the customer waits for your reply."
