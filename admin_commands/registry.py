"""The staff command registry: each command declared once, parsed from its signature.

    @command("assign", role=Role.AGENT, aliases=("take",))
    async def assign(ctx: CommandContext, agent: AgentRef, ticket: TicketRef | None = None) -> str:
        \"\"\"Assign a ticket to an agent.\"\"\"

- Arguments are converted by annotation: `str` (one word), `int`, a `StrEnum` (forgiving of
  case, unique prefixes and small typos), `AgentRef`, `Text` (the rest of the line) and
  `TicketRef` (`#N` anywhere in the line; without it the topic's ticket is meant).
- The role is checked before parsing; the same check builds `/help`, so each person sees
  only what they may run. An unknown command gets the closest matches.
- `CommandError` text is shown as-is; any other exception gets a generic answer and a
  logged traceback.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import re
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Union

from bot.desk import AgentView, may_act_as
from bot.errors import CommandError
from bot.staffing import CommandRequest, StaffService
from bot.types import Role, TicketView

log = logging.getLogger(__name__)


class TicketRef(int):
    """A ticket named as `#N`."""


class AgentRef(str):
    """`me`, `@username` or an agent id."""


class Text(str):
    """The rest of the line, spaces and all."""


class UsageError(CommandError):
    pass


Handler = Callable[..., Awaitable[str]]

_TOKEN = re.compile(r'"([^"]*)"|“([^”]*)”|«([^»]*)»|„([^“”]*)[“”]|(\S+)')
_TICKET = re.compile(r"#(\d{1,9})")
_NAME = re.compile(r"/([A-Za-z_][\w-]*)(?:@\w+)?")
ENUM_CUTOFF = 0.75


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: type
    optional: bool
    default: Any

    @property
    def shown(self) -> str:
        if self.kind is Text:
            inner = f"{self.name}..."
        elif isinstance(self.kind, type) and issubclass(self.kind, StrEnum):
            inner = "|".join(member.value for member in self.kind)
        elif self.kind is AgentRef:
            inner = "me|@username|agent-id"
        elif self.kind is TicketRef:
            inner = "#N"
        else:
            inner = self.name
        return f"[{inner}]" if self.optional else f"<{inner}>"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    role: Role
    summary: str
    details: str
    params: tuple[Param, ...]
    handler: Handler
    aliases: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        return " ".join([f"/{self.name}", *(param.shown for param in self.params)])

    @property
    def ticket_param(self) -> Param | None:
        return next((p for p in self.params if p.kind is TicketRef), None)


class CommandContext:
    """What a command may use: who runs it, where, and the staff service to act through."""

    def __init__(self, request: CommandRequest, registry: CommandRegistry) -> None:
        self.agent: AgentView = request.agent
        self.topic_id = request.topic_id
        self.service: StaffService = request.service
        self.registry = registry

    async def ticket(self, ref: TicketRef | None) -> TicketView:
        return await self.service.ticket(int(ref) if ref is not None else None, self.topic_id)

    async def resolve_agent(self, ref: AgentRef) -> AgentView:
        if ref.lower() == "me":
            return self.agent
        found = await self.service.store.find_agent(ref)
        if found is None:
            raise CommandError(f"No agent {ref}; /agents lists them.")
        return found

    def may_run(self, spec: CommandSpec) -> bool:
        return may_act_as(self.agent.role, spec.role)


class CommandRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, CommandSpec] = {}
        self._names: dict[str, str] = {}

    def command(
        self, name: str, *, role: Role, aliases: tuple[str, ...] = ()
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for key in (name, *aliases):
                if key in self._names:
                    raise ValueError(f"/{key} is declared twice")
                self._names[key] = name
            doc = inspect.getdoc(handler) or ""
            summary, _, details = doc.partition("\n")
            self._specs[name] = CommandSpec(
                name=name,
                role=role,
                summary=summary.strip(),
                details=details.strip(),
                params=_params(handler),
                handler=handler,
                aliases=aliases,
            )
            return handler

        return register

    @property
    def specs(self) -> list[CommandSpec]:
        return sorted(self._specs.values(), key=lambda spec: spec.name)

    def get(self, name: str) -> CommandSpec | None:
        key = self._names.get(name.lower().lstrip("/"))
        return self._specs[key] if key else None

    async def run(self, request: CommandRequest) -> str:
        """Run one command line; the answer is always a sentence fit to show staff."""
        context = CommandContext(request, self)
        match = _NAME.match(request.text)
        if match is None:
            return "Commands start with / followed by a name; /help lists them."
        spec = self.get(match.group(1))
        if spec is None:
            return self.unknown_text(match.group(1), context)
        if not context.may_run(spec):
            return f"/{spec.name} is for {spec.role.value}s only."
        try:
            args = _parse(spec, request.text[match.end() :])
            return await spec.handler(context, *args)
        except UsageError as exc:
            return f"{exc} Usage: {spec.usage}"
        except CommandError as exc:
            return str(exc)
        except Exception:
            log.exception("command /%s failed", spec.name)
            return f"Sorry, /{spec.name} failed unexpectedly; the error was logged."

    def unknown_text(self, name: str, context: CommandContext) -> str:
        allowed = [
            key for key, target in self._names.items() if context.may_run(self._specs[target])
        ]
        close = difflib.get_close_matches(name.lower(), allowed, n=3, cutoff=0.5)
        hint = " or ".join(f"/{key}" for key in close)
        suggestion = f" Did you mean {hint}?" if hint else ""
        return f"Unknown command /{name}.{suggestion} /help lists the commands."


def _params(handler: Handler) -> tuple[Param, ...]:
    signature = inspect.signature(handler)
    hints = typing.get_type_hints(handler)
    params = []
    for name, parameter in list(signature.parameters.items())[1:]:
        kind, optional = _unwrap(hints[name])
        has_default = parameter.default is not inspect.Parameter.empty
        params.append(
            Param(
                name=name,
                kind=kind,
                optional=optional or has_default,
                default=parameter.default if has_default else None,
            )
        )
    return tuple(params)


def _unwrap(annotation: Any) -> tuple[type, bool]:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported annotation {annotation}")
        return members[0], True
    return annotation, False


def _parse(spec: CommandSpec, rest: str) -> list[Any]:
    ticket: TicketRef | None = None
    ticket_param = spec.ticket_param
    if ticket_param is not None:
        found = _TICKET.search(rest)
        if found is not None:
            ticket = TicketRef(int(found.group(1)))
            rest = rest[: found.start()] + rest[found.end() :]
    tokens = [
        (m.start(), m.end(), next(g for g in m.groups() if g is not None))
        for m in _TOKEN.finditer(rest)
    ]
    values: list[Any] = []
    position = 0
    for param in spec.params:
        if param.kind is TicketRef:
            values.append(ticket)
            continue
        if param.kind is Text:
            text = _rest_text(rest, tokens, position)
            if not text and not param.optional:
                raise UsageError(f"/{spec.name} needs {param.name}.")
            values.append(Text(text) if text else param.default)
            position = len(tokens)
            continue
        if position >= len(tokens):
            if not param.optional:
                raise UsageError(f"/{spec.name} needs {param.name}.")
            values.append(param.default)
            continue
        values.append(_convert(param, tokens[position][2]))
        position += 1
    if position < len(tokens):
        extra = " ".join(token for _, _, token in tokens[position:])
        raise UsageError(f"/{spec.name} does not take {extra!r}.")
    return values


def _rest_text(rest: str, tokens: list[tuple[int, int, str]], position: int) -> str:
    if position >= len(tokens):
        return ""
    if position == len(tokens) - 1:
        return tokens[position][2].strip()  # one quoted or bare word: without its quotes
    return rest[tokens[position][0] :].strip()


def _convert(param: Param, token: str) -> Any:
    kind = param.kind
    if kind is int:
        try:
            return int(token)
        except ValueError:
            raise UsageError(f"{param.name} must be a number, not {token!r}.") from None
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return _enum_member(kind, token, param.name)
    if kind is AgentRef:
        return AgentRef(token)
    return token


def _enum_member(kind: type[StrEnum], token: str, name: str) -> StrEnum:
    wanted = token.lower().replace("-", "_")
    values = [member.value for member in kind]
    if wanted in values:
        return kind(wanted)
    prefixed = [value for value in values if value.startswith(wanted)]
    if len(prefixed) == 1:
        return kind(prefixed[0])
    close = difflib.get_close_matches(wanted, values, n=1, cutoff=ENUM_CUTOFF)
    if close:
        return kind(close[0])
    raise UsageError(f"{name} must be one of {', '.join(values)}, not {token!r}.")


REGISTRY = CommandRegistry()
command = REGISTRY.command
