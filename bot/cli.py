"""The `helpline` command: run the server, manage the FAQ.

Every command opens the database named by HELPLINE_DATABASE_URL and brings its schema up
to date first, so the server and the CLI may run in either order on an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from aiohttp import web

from bot.app import create_app, load_sample_faq
from bot.config import Settings, load_settings
from bot.errors import ConfigError, HelplineError
from knowledge.faq import FaqMatcher
from knowledge.importer import load_faq_file
from storage.database import Database
from storage.faq import FaqStore

log = logging.getLogger("helpline")

EXIT_USAGE = 2
EXIT_FAILED = 1
PREVIEW_CHARS = 70


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="override HELPLINE_HOST")
    serve.add_argument("--port", type=int, help="override HELPLINE_PORT")

    commands.add_parser("migrate", help="create or upgrade the database schema and exit")

    faq = commands.add_parser("faq", help="manage the FAQ").add_subparsers(
        dest="faq_command", required=True, metavar="ACTION"
    )
    importing = faq.add_parser("import", help="import FAQ entries from JSON, CSV or XLSX")
    importing.add_argument("path", type=Path)
    listing = faq.add_parser("list", help="list FAQ entries")
    listing.add_argument("--lang", help="only this language")
    searching = faq.add_parser("search", help="show the best FAQ matches for a question")
    searching.add_argument("query", nargs="+")
    searching.add_argument("--lang", help="the customer's language")
    searching.add_argument("--limit", type=int, default=5)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "serve":
        return serve(settings, host=args.host, port=args.port)
    actions: dict[str, Callable[[], Awaitable[int]]] = {
        "migrate": _schema_only,
        "import": lambda: faq_import(args.path, settings),
        "list": lambda: faq_list(args.lang),
        "search": lambda: faq_search(" ".join(args.query), args.lang, args.limit, settings),
    }
    action = actions[args.faq_command if args.command == "faq" else args.command]
    samples = args.command == "faq" and args.faq_command in ("list", "search")
    try:
        return asyncio.run(_with_database(settings, action, load_samples=samples))
    except HelplineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


async def _with_database(
    settings: Settings, action: Callable[[], Awaitable[int]], *, load_samples: bool
) -> int:
    database = Database(settings.database_url.get_secret_value())
    await database.open()
    try:
        if load_samples and settings.sample_faq:
            await load_sample_faq(FaqStore())
        return await action()
    finally:
        await database.close()


async def _schema_only() -> int:
    print("database schema is up to date")
    return 0


def serve(settings: Settings, *, host: str | None, port: int | None) -> int:
    web.run_app(
        create_app(settings),
        host=host or settings.host,
        port=port if port is not None else settings.port,
        shutdown_timeout=settings.shutdown_timeout,
        access_log=None,
        print=lambda _: log.info(
            "listening on http://%s:%d/",
            host or settings.host,
            port if port is not None else settings.port,
        ),
    )
    return 0


async def faq_import(path: Path, settings: Settings) -> int:
    entries = load_faq_file(path, default_language=settings.default_language)
    summary = await FaqStore().import_entries(entries)
    print(
        f"imported {len(entries)} entries from {path}: {summary.created} new, "
        f"{summary.updated} updated"
        + (f", {summary.samples_removed} sample entries removed" if summary.samples_removed else "")
    )
    return 0


async def faq_list(language: str | None) -> int:
    entries = await FaqStore().list_entries(language=language)
    for entry in entries:
        print(f"{entry.faq_id:<24} {entry.language}  {_preview(entry.question)}")
    print(f"{len(entries)} entries")
    return 0


async def faq_search(query: str, language: str | None, limit: int, settings: Settings) -> int:
    matcher = FaqMatcher(await FaqStore().list_entries(), min_score=settings.faq_min_score)
    best = matcher.best_match(query, language)
    for match in matcher.search(query, language, limit=limit):
        marker = "*" if best is not None and match.entry.faq_id == best.entry.faq_id else " "
        print(
            f"{marker} {match.score:.3f}  {match.entry.faq_id:<24} {match.entry.language}  "
            f"{_preview(match.entry.question)}"
        )
    if best is None:
        print("no confident match: the bot would hand this question on")
    return 0


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
