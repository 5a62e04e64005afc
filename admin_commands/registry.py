"""The staff command registry: each command declared once, parsed from its signature.

    @command("assign", role=Role.AGENT, aliases=("take",))
    async def assign(ctx: CommandContext, agent: AgentRef, ticket: TicketRef | None = None) -> str:
        \"\"\"Assign a ticket to an agent.\"\"\"

- Arguments are converted by annotation: `str` (one word, or a quoted phrase), `int`, a
  `StrEnum` (forgiving of case, unique prefixes and small typos), `AgentRef`, an
  `Argument` subclass (its own `parse`), `Text` (the rest of the line) and `TicketRef`
  (`#N`; without it the topic's ticket is meant).
- A name with a space declares a subcommand: `@command("faq add", ...)` is `/faq add`.
- The role is checked before parsing; the same check builds `/help`, so each person sees
  only what they may run. An unknown command gets the closest matches.
- `CommandError` text is shown as-is; any other exception gets a generic answer and a
  logged traceback. `execute` also says how a command ended, for exit codes.
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
from typing import Any, ClassVar, Self, TypeVar, Union

from bot.desk import ROLE_RANK, AgentView, may_act_as
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


class Argument:
    """A domain value parsed from one word; subclasses set `shown` and define `parse`."""

    shown: ClassVar[str]

    @classmethod
    def parse(cls, token: str) -> Self:
        raise NotImplementedError


class UsageError(CommandError):
    """Wrong or missing arguments: the answer adds the command's usage line."""


class Outcome(StrEnum):
    DONE = "done"
    USAGE = "usage"
    """Wrong or missing arguments, or a subcommand missing."""
    UNKNOWN = "unknown"
    REFUSED = "refused"
    """Not allowed for this role, or refused by the command itself (`CommandError`)."""
    FAILED = "failed"
    """An unexpected error; it was logged."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    text: str
    outcome: Outcome

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DONE


Handler = Callable[..., Awaitable[str]]
E = TypeVar("E", bound=StrEnum)

_TOKEN = re.compile(r'"([^"]*)"|“([^”]*)”|«([^»]*)»|„([^“”]*)[“”]|(\S+)')
_TICKET = re.compile(r"(?<!\S)#(\d{1,9})(?!\w)")
_NAME = re.compile(r"/([A-Za-z_][\w-]*)(?:@\w+)?")
_WORD = re.compile(r"\s*(\S+)")
_TRAILING = " \t.,;:!?"
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
        elif isinstance(self.kind, type) and issubclass(self.kind, Argument):
            inner = self.kind.shown
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
    """The words after the slash: `assign`, or `faq add` for a subcommand."""
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

    @property
    def takes_text(self) -> bool:
        return any(p.kind is Text for p in self.params)

    @property
    def ticket_last(self) -> bool:
        """The usage line shows `#N` after the free text (`/note <text...> [#N]`)."""
        kinds = [p.kind for p in self.params]
        return TicketRef in kinds and Text in kinds and kinds.index(TicketRef) > kinds.index(Text)


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


class CommandRejected(Exception):
    """A line that names no command the reader may run, or whose arguments do not fit."""

    def __init__(self, text: str, outcome: Outcome) -> None:
        super().__init__(text)
        self.text = text
        self.outcome = outcome


class CommandRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, CommandSpec] = {}
        self._names: dict[str, str] = {}
        self._groups: dict[str, dict[str, str]] = {}

    def command(
        self, name: str, *, role: Role, aliases: tuple[str, ...] = ()
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            words = name.split()
            if len(words) == 1:
                self._claim(self._names, (name, *aliases), name, taken=self._groups)
            elif len(words) == 2:
                group, sub = words
                if group in self._names:
                    raise ValueError(f"/{group} is already a command")
                self._claim(self._groups.setdefault(group, {}), (sub, *aliases), name, taken={})
            else:
                raise ValueError(f"command names have one or two words, not {name!r}")
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

    @staticmethod
    def _claim(
        table: dict[str, str], keys: tuple[str, ...], name: str, *, taken: dict[str, Any]
    ) -> None:
        for key in keys:
            if key in table or key in taken:
                raise ValueError(f"/{key} is declared twice")
            table[key] = name

    @property
    def specs(self) -> list[CommandSpec]:
        return sorted(self._specs.values(), key=lambda spec: spec.name)

    def get(self, name: str) -> CommandSpec | None:
        words = name.lower().lstrip("/").split()
        if len(words) == 1:
            key = self._names.get(words[0])
        elif len(words) == 2:
            key = self._groups.get(words[0], {}).get(words[1])
        else:
            key = None
        return self._specs[key] if key else None

    def group(self, name: str) -> list[CommandSpec]:
        """The subcommands of `/name`, empty when it is not a group."""
        names = set(self._groups.get(name.lower().lstrip("/"), {}).values())
        return [spec for spec in self.specs if spec.name in names]

    def parse(self, text: str, context: CommandContext) -> tuple[CommandSpec, list[Any]]:
        """The command a line names and its converted arguments; raises on any problem."""
        spec, rest = self._resolve(text, context)
        if not context.may_run(spec):
            raise CommandRejected(f"/{spec.name} is for {spec.role.value}s only.", Outcome.REFUSED)
        try:
            return spec, _parse(spec, rest)
        except UsageError as exc:
            raise CommandRejected(f"{exc} Usage: {spec.usage}", Outcome.USAGE) from None

    async def execute(self, request: CommandRequest) -> CommandResult:
        """Run one command line; the text is always a sentence fit to show staff."""
        context = CommandContext(request, self)
        try:
            spec, args = self.parse(request.text, context)
        except CommandRejected as rejected:
            return CommandResult(rejected.text, rejected.outcome)
        try:
            return CommandResult(await spec.handler(context, *args), Outcome.DONE)
        except UsageError as exc:
            return CommandResult(f"{exc} Usage: {spec.usage}", Outcome.USAGE)
        except CommandError as exc:
            return CommandResult(str(exc), Outcome.REFUSED)
        except Exception:
            log.exception("command /%s failed", spec.name)
            text = f"Sorry, /{spec.name} failed unexpectedly; the error was logged."
            return CommandResult(text, Outcome.FAILED)

    async def run(self, request: CommandRequest) -> str:
        return (await self.execute(request)).text

    def _resolve(self, text: str, context: CommandContext) -> tuple[CommandSpec, str]:
        match = _NAME.match(text)
        if match is None:
            raise CommandRejected(
                "Commands start with / followed by a name; /help lists them.", Outcome.UNKNOWN
            )
        word, rest = match.group(1).lower(), text[match.end() :]
        if word in self._names:
            return self._specs[self._names[word]], rest
        if word not in self._groups:
            raise CommandRejected(self.unknown_text(word, context), Outcome.UNKNOWN)
        allowed = [spec for spec in self.group(word) if context.may_run(spec)]
        if not allowed:
            least = min((spec.role for spec in self.group(word)), key=ROLE_RANK.__getitem__)
            raise CommandRejected(f"/{word} is for {least.value}s only.", Outcome.REFUSED)
        sub = _WORD.match(rest)
        if sub is None:
            raise CommandRejected(_group_usage(word, allowed, "needs one of"), Outcome.USAGE)
        key = _closest(sub.group(1).lower(), list(self._groups[word]))
        if key is None:
            raise CommandRejected(
                _group_usage(word, allowed, f"has no {sub.group(1)!r}; try"), Outcome.USAGE
            )
        return self._specs[self._groups[word][key]], rest[sub.end() :]

    def unknown_text(self, name: str, context: CommandContext) -> str:
        names = self._names.items()
        allowed = [key for key, target in names if context.may_run(self._specs[target])]
        allowed += [g for g in self._groups if any(context.may_run(s) for s in self.group(g))]
        close = difflib.get_close_matches(name.lower(), allowed, n=3, cutoff=0.5)
        hint = " or ".join(f"/{key}" for key in close)
        suggestion = f" Did you mean {hint}?" if hint else ""
        return f"Unknown command /{name}.{suggestion} /help lists the commands."


def _group_usage(word: str, allowed: list[CommandSpec], lead: str) -> str:
    subs = ", ".join(spec.name.split()[1] for spec in allowed)
    usages = "\n".join(spec.usage for spec in allowed)
    return f"/{word} {lead}: {subs}. Usage:\n{usages}"


def _closest(token: str, keys: list[str]) -> str | None:
    """An exact key, a unique prefix, or a near miss (a small typo)."""
    if token in keys:
        return token
    prefixed = [key for key in keys if key.startswith(token)]
    if len(prefixed) == 1:
        return prefixed[0]
    close = difflib.get_close_matches(token, keys, n=1, cutoff=ENUM_CUTOFF)
    return close[0] if close else None


def choose(kind: type[E], token: str, name: str) -> E:
    """The member of `kind` a word means, forgiving case, prefixes and small typos."""
    value = _closest(token.lower().replace("-", "_"), [member.value for member in kind])
    if value is None:
        values = ", ".join(member.value for member in kind)
        raise UsageError(f"{name} must be one of {values}, not {token!r}.")
    return kind(value)


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


def _take_ticket(spec: CommandSpec, rest: str) -> tuple[TicketRef | None, str]:
    """`#N` anywhere; in a command that takes free text, only as the first word, or as the
    last one where the usage line puts it there: "#4711" inside a note is part of the note,
    and `/close refunded order #77` closes the topic's ticket, not #77."""
    for found in _TICKET.finditer(rest):
        before, after = rest[: found.start()], rest[found.end() :]
        first, last = not before.strip(), not after.strip(_TRAILING)
        if spec.takes_text and not (first or (last and spec.ticket_last)):
            continue
        if last:
            return TicketRef(int(found.group(1))), before.rstrip() + after.strip()
        return TicketRef(int(found.group(1))), before + after
    return None, rest


def _parse(spec: CommandSpec, rest: str) -> list[Any]:
    ticket: TicketRef | None = None
    if spec.ticket_param is not None:
        ticket, rest = _take_ticket(spec, rest)
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
        return choose(kind, token, param.name)
    if isinstance(kind, type) and issubclass(kind, Argument):
        return kind.parse(token)
    if kind is AgentRef:
        return AgentRef(token)
    return token


REGISTRY = CommandRegistry()
command = REGISTRY.command
