"""`/help`: generated from the declarations, filtered by what the reader may run."""

from __future__ import annotations

from admin_commands.registry import CommandContext, CommandSpec, Text, command
from bot.types import Role


@command("help", role=Role.AGENT, aliases=("commands",))
async def help_(ctx: CommandContext, name: Text | None = None) -> str:
    """List the commands you can use, or show one in detail: /help COMMAND."""
    if name is None:
        lines = [
            f"{spec.usage} — {spec.summary}" for spec in ctx.registry.specs if ctx.may_run(spec)
        ]
        lines.append("In a ticket's topic, commands act on its ticket; elsewhere add #N.")
        return "\n".join(lines)
    wanted = " ".join(name.lower().lstrip("/").split())
    spec = ctx.registry.get(wanted)
    if spec is not None and ctx.may_run(spec):
        return _details(spec)
    subcommands = [s for s in ctx.registry.group(wanted) if ctx.may_run(s)]
    if subcommands:
        return "\n".join(f"{s.usage} — {s.summary}" for s in subcommands)
    return ctx.registry.unknown_text(wanted.split()[0] if wanted else wanted, ctx)


def _details(spec: CommandSpec) -> str:
    parts = [spec.usage, spec.summary]
    if spec.details:
        parts.append(spec.details)
    if spec.aliases:
        head = spec.name.rsplit(" ", 1)[0] + " " if " " in spec.name else ""
        parts.append("Also: " + ", ".join(f"/{head}{alias}" for alias in spec.aliases))
    if spec.role is not Role.AGENT:
        parts.append(f"For {spec.role.value}s.")
    return "\n\n".join(parts)
