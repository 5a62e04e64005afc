"""Staff commands. Importing this package registers every command in `REGISTRY`."""

from admin_commands import (
    agent_cmds,
    desk_cmds,
    draft_cmds,
    faq_cmds,
    help_cmds,
    stats_cmds,
    ticket_cmds,
)
from admin_commands.registry import REGISTRY, CommandRegistry, CommandResult, Outcome

__all__ = [
    "REGISTRY",
    "CommandRegistry",
    "CommandResult",
    "Outcome",
    "agent_cmds",
    "desk_cmds",
    "draft_cmds",
    "faq_cmds",
    "help_cmds",
    "stats_cmds",
    "ticket_cmds",
]
