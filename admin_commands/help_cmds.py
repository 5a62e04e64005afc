"""`/help`: generated from the declarations, filtered by what the reader may run."""

from __future__ import annotations

from admin_commands.registry import CommandContext, command
from bot.types import Role


@command("help", role=Role.AGENT, aliases=("commands",))
async def help_(ctx: CommandContext, name: str | None = None) -> str:
    """List the commands you can use, or show one in detail: /help COMMAND."""
    if name is None:
        lines = [
            f"{spec.usage} — {spec.summary}" for spec in ctx.registry.specs if ctx.may_run(spec)
        ]
        lines.append("In a ticket's topic, commands act on its ticket; elsewhere add #N.")
        return "\n".join(lines)
    spec = ctx.registry.get(name)
    if spec is None or not ctx.may_run(spec):
        return ctx.registry.unknown_text(name.lstrip("/"), ctx)
    parts = [f"{spec.usage}", spec.summary]
    if spec.details:
        parts.append(spec.details)
    if spec.aliases:
        parts.append("Also: " + ", ".join(f"/{alias}" for alias in spec.aliases))
    if spec.role is not Role.AGENT:
        parts.append(f"For {spec.role.value}s.")
    return "\n\n".join(parts)
