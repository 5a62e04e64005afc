"""Staff commands. Importing this package registers every command in `REGISTRY`."""

from admin_commands import draft_cmds, help_cmds, ticket_cmds
from admin_commands.registry import REGISTRY, CommandRegistry

__all__ = ["REGISTRY", "CommandRegistry", "draft_cmds", "help_cmds", "ticket_cmds"]
