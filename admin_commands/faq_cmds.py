"""`/faq add`, `/faq search`, `/faq remove`: editing the FAQ from the agents' chat.

A change reaches every running server within seconds: the FAQ revision is bumped and each
server rebuilds its index when it notices.
"""

from __future__ import annotations

from admin_commands.formatting import preview
from admin_commands.registry import Argument, CommandContext, Text, UsageError, command
from bot.types import SUPPORTED_LANGUAGES, FaqEntry, Role

SEARCH_LIMIT = 8


class Language(Argument):
    """A language code the service can answer in."""

    shown = "lang"

    def __init__(self, code: str) -> None:
        self.code = code

    @classmethod
    def parse(cls, token: str) -> Language:
        code = token.lower().replace("_", "-").split("-", 1)[0]
        if code not in SUPPORTED_LANGUAGES:
            codes = ", ".join(SUPPORTED_LANGUAGES)
            raise UsageError(f"lang must be one of {codes}, not {token!r}.")
        return cls(code)


@command("faq add", role=Role.ADMIN, aliases=("new",))
async def faq_add(
    ctx: CommandContext,
    question: str,
    answer: str,
    lang: Language | None = None,
    id: str | None = None,
) -> str:
    """Add an FAQ entry: /faq add "question" "answer" [lang] [id].

    Quote the question and the answer. `lang` is one of en, de, ru, zh, fr, es; without
    it the language is detected from the text. Without `id` a new entry is made (its id
    is derived from the question); with an existing `id`, the entry gets that language
    version, or that version is replaced. Other entries are never touched.
    """
    added = await ctx.service.faq.add(
        question,
        answer,
        language=lang.code if lang else None,
        faq_id=id,
        by=ctx.agent,
    )
    detected = ", detected from the text" if added.detected else ""
    if added.created:
        what = f"Added FAQ entry {added.faq_id} ({added.language}{detected})."
    else:
        what = f"Replaced the {added.language} version of FAQ entry {added.faq_id}."
    return f"{what} The bot answers with it within seconds; /faq remove {added.faq_id} undoes it."


@command("faq search", role=Role.AGENT, aliases=("find",))
async def faq_search(ctx: CommandContext, query: Text) -> str:
    """Find FAQ entries by words or by a customer's question; shows their ids."""
    found = await ctx.service.faq.search(str(query), limit=SEARCH_LIMIT)
    if found.matches:
        lines = [f"FAQ matches for {preview(query)!r}:"]
        lines.extend(f"{match.score:.2f} {_entry(match.entry)}" for match in found.matches)
        if found.best is not None:
            lines.append(f"The bot would answer this with {found.best.entry.faq_id}.")
        else:
            lines.append("No match is confident enough: the bot would hand this to the team.")
        return "\n".join(lines)
    if not found.entries:
        return f"No FAQ entry matches {preview(query)!r}."
    by_id: dict[str, list[FaqEntry]] = {}
    for entry in found.entries:
        by_id.setdefault(entry.faq_id, []).append(entry)
    lines = [f"FAQ entries with {preview(query)!r}:"]
    for versions in by_id.values():
        languages = ", ".join(version.language for version in versions)
        first = versions[0]
        lines.append(f"{first.faq_id} ({languages}) — {preview(first.question)}")
    return "\n".join(lines)


def _entry(entry: FaqEntry) -> str:
    return f"{entry.faq_id} ({entry.language}) — {preview(entry.question)}"


@command("faq remove", role=Role.ADMIN, aliases=("delete",))
async def faq_remove(ctx: CommandContext, id: str) -> str:
    """Remove an FAQ entry with all its language versions: /faq remove ID."""
    removed = await ctx.service.faq.remove(id, by=ctx.agent)
    versions = "version" if removed == 1 else "versions"
    return f"Removed FAQ entry {id} ({removed} language {versions})."
