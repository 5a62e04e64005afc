"""The `helpline` command: run the server, manage the FAQ and the documents, staff commands.

Every command opens the database named by HELPLINE_DATABASE_URL and brings its schema up
to date first, so the server and the CLI may run in either order on an empty database.
`helpline cmd "/tickets open"` runs a staff command as an admin; what it owes customers or
the agents' chat stays in the outbox for a running server to deliver.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from admin_commands import REGISTRY, Outcome
from bot.config import Settings, load_settings
from bot.errors import ConfigError, HelplineError
from bot.process import new_event_loop
from bot.seed import load_sample_faq
from bot.staffing import CommandRequest, StaffService
from bot.types import Deliveries, FaqEntry
from knowledge.documents import load_document
from knowledge.embeddings import load_local_embedder
from knowledge.faq import FaqMatcher
from knowledge.importer import load_faq_file
from knowledge.live import LiveFaq
from knowledge.passages import PassageIndex, PassageText
from knowledge.semantic import (
    SemanticIndex,
    current_vectors,
    embed_entries,
    pack,
    row_texts,
    texts_digest,
)
from storage.conversations import ConversationStore
from storage.database import Database
from storage.documents import DocumentStore
from storage.faq import FaqStore, StoredVectors
from storage.outbox import DeliveryStore
from storage.staff import StaffStore

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
    faq.add_parser("embed", help="compute missing FAQ embeddings (needs helpline[embeddings])")

    kb = commands.add_parser("kb", help="manage documents (manuals, policies)").add_subparsers(
        dest="kb_command", required=True, metavar="ACTION"
    )
    kb_import = kb.add_parser("import", help="import Markdown or text files; replaces by name")
    kb_import.add_argument("paths", type=Path, nargs="+", metavar="PATH")
    kb_import.add_argument("--lang", help="language of the documents, if known")
    kb.add_parser("list", help="list imported documents")
    kb_search = kb.add_parser("search", help="show the passages found for a question")
    kb_search.add_argument("query", nargs="+")
    kb_search.add_argument("--limit", type=int, default=3)
    kb_remove = kb.add_parser("remove", help="remove a document by name")
    kb_remove.add_argument("name")

    cmd = commands.add_parser(
        "cmd",
        help='run a staff command as an admin, e.g. helpline cmd "/tickets open"',
        description="Run one staff command (see /help) as the admin 'Command line'. "
        "Exit status: 0 done, 1 refused or failed, 2 unknown command or bad arguments.",
    )
    cmd.add_argument("line", nargs="+", metavar="COMMAND", help='e.g. "/close #12 refunded"')
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
        "faq import": lambda: faq_import(args.path, settings),
        "faq list": lambda: faq_list(args.lang),
        "faq search": lambda: faq_search(" ".join(args.query), args.lang, args.limit, settings),
        "faq embed": faq_embed,
        "kb import": lambda: kb_import(args.paths, args.lang, settings),
        "kb list": kb_list,
        "kb search": lambda: kb_search(" ".join(args.query), args.limit),
        "kb remove": lambda: kb_remove(args.name),
        "cmd": lambda: staff_command(" ".join(args.line), settings),
    }
    sub = getattr(args, f"{args.command}_command", None)
    action = actions[f"{args.command} {sub}" if sub else args.command]
    samples = args.command == "faq" and sub in ("list", "search", "embed")
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
        _create_app(settings),
        loop=new_event_loop(),
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
    await faq_embed()
    return 0


async def faq_embed(*, say_when_current: bool = True) -> int:
    """Embed every FAQ version whose stored vectors are missing or out of date."""
    embedder = load_local_embedder()
    if embedder is None:
        print("embeddings: not installed (pip install 'helpline[embeddings]'); matching is lexical")
        return 0
    store = FaqStore()
    entries = await store.list_entries()
    _, missing = current_vectors(entries, await store.load_vectors(embedder.name))
    if not missing:
        if say_when_current:
            print(f"embeddings: all {len(entries)} FAQ versions are up to date ({embedder.name})")
        return 0
    print(f"embeddings: computing {len(missing)} FAQ versions with {embedder.name} ...")
    matrices = await asyncio.to_thread(embed_entries, embedder, missing)
    await store.save_vectors(
        embedder.name, [_stored(e, m) for e, m in zip(missing, matrices, strict=True)]
    )
    print(f"embeddings: stored for {len(missing)} FAQ versions")
    return 0


def _stored(entry: FaqEntry, matrix: Any) -> StoredVectors:
    return StoredVectors(
        faq_id=entry.faq_id,
        language=entry.language,
        digest=texts_digest(row_texts(entry)),
        dimensions=int(matrix.shape[1]),
        data=pack(matrix),
    )


async def faq_list(language: str | None) -> int:
    entries = await FaqStore().list_entries(language=language)
    for entry in entries:
        print(f"{entry.faq_id:<24} {entry.language}  {_preview(entry.question)}")
    print(f"{len(entries)} entries")
    return 0


async def faq_search(query: str, language: str | None, limit: int, settings: Settings) -> int:
    store = FaqStore()
    entries = await store.list_entries()
    semantic = None
    embedder = load_local_embedder()
    if embedder is not None:
        vectors, missing = current_vectors(entries, await store.load_vectors(embedder.name))
        semantic = SemanticIndex(embedder, vectors) if entries and not missing else None
    matcher = FaqMatcher(entries, min_score=settings.faq_min_score, semantic=semantic)
    best = matcher.best_match(query, language)
    for match in matcher.search(query, language, limit=limit):
        marker = "*" if best is not None and match.entry.faq_id == best.entry.faq_id else " "
        print(
            f"{marker} {match.score:.3f}  {match.entry.faq_id:<24} {match.entry.language}  "
            f"{_preview(match.entry.question)}"
        )
    if best is None:
        print("no confident match: the bot would hand this question on")
    elif best.needs_translation:
        print(f"no {language} version: the {best.entry.language} answer needs translating")
    return 0


async def kb_import(paths: Sequence[Path], language: str | None, settings: Settings) -> int:
    """All files are parsed before anything is stored: one bad file imports none."""
    if language is not None and language not in settings.languages:
        raise ConfigError([f"--lang {language!r}: choose one of {', '.join(settings.languages)}"])
    documents = [load_document(path) for path in paths]
    store = DocumentStore()
    for document in documents:
        changed = await store.replace(
            name=document.name,
            title=document.title,
            language=language,
            digest=document.digest,
            passages=document.passages,
        )
        state = "imported" if changed else "unchanged"
        print(f"{state}: {document.name} ({len(document.passages)} passages) {document.title}")
    return 0


async def kb_list() -> int:
    documents = await DocumentStore().list_documents()
    for document in documents:
        print(
            f"{document.name:<32} {document.language or '--'}  {document.passages:>4} passages  "
            f"{_preview(document.title)}"
        )
    print(f"{len(documents)} documents")
    return 0


async def kb_search(query: str, limit: int) -> int:
    passages = [
        PassageText(p.document, p.title, p.heading, p.text, p.language, p.position)
        for p in await DocumentStore().list_passages()
    ]
    found = PassageIndex(passages).search_passages(query, None, limit=limit)
    for passage in found:
        print(f"{passage.score:.3f}  {passage.document}  {passage.title}")
        print(f"       {_preview(passage.text)}")
    if not found:
        print("no passage shares a word with this question")
    return 0


async def kb_remove(name: str) -> int:
    if not await DocumentStore().remove(name):
        print(f"error: no document named {name!r}", file=sys.stderr)
        return EXIT_FAILED
    print(f"removed {name}")
    return 0


class LeftForServer:
    """Deliveries stay in the outbox, free for a running server's sweeper to send."""

    def __init__(self) -> None:
        self.customer = 0
        self.staff = 0

    def send_now(self, deliveries: Deliveries) -> None:
        self.customer += len(deliveries.customer)
        self.staff += len(deliveries.staff)


EXIT_CODES = {
    Outcome.DONE: 0,
    Outcome.USAGE: EXIT_USAGE,
    Outcome.UNKNOWN: EXIT_USAGE,
    Outcome.REFUSED: EXIT_FAILED,
    Outcome.FAILED: EXIT_FAILED,
}


async def staff_command(line: str, settings: Settings) -> int:
    """Run one staff command as the command-line admin, in the general chat's place (#N)."""
    text = line.strip()
    text = text if text.startswith("/") else f"/{text}"
    mirror = settings.telegram_token is not None and settings.telegram_agent_chat_id is not None
    owner = f"cli:{socket.gethostname()}:{os.getpid()}"
    store = StaffStore(mirror_to_staff=mirror, lease=timedelta(0))
    left = LeftForServer()
    service = StaffService(
        store=store,
        conversations=ConversationStore(mirror_to_staff=mirror),
        outbox=left,
        owner=owner,
        tell_customer_on_assign=settings.notify_customer_on_assign,
        knowledge=await _faq_index(settings) if _names_faq(text) else None,
    )
    service.commands = REGISTRY.run
    agent = await store.command_line_agent()
    faq_revision = await FaqStore().revision() if _names_faq(text) else None
    try:
        result = await REGISTRY.execute(CommandRequest(text, agent, None, service))
    finally:
        await DeliveryStore().release(lease_owner=owner)
    print(result.text, file=sys.stdout if result.ok else sys.stderr)
    if left.customer or left.staff:
        print(
            f"queued for the server to deliver: {left.customer} to the customer, "
            f"{left.staff} to the agents' chat"
        )
    faq_changed = faq_revision is not None and await FaqStore().revision() != faq_revision
    if faq_changed and load_local_embedder() is not None:
        await faq_embed(say_when_current=False)  # semantic matching complete after /faq add
    return EXIT_CODES[result.outcome]


def _names_faq(text: str) -> bool:
    return text.split(maxsplit=1)[0].split("@", 1)[0].lower() == "/faq"


async def _faq_index(settings: Settings) -> LiveFaq:
    """The FAQ index as a server would build it, for `/faq search`."""
    store = FaqStore()
    index = LiveFaq(
        store.list_entries,
        store.revision,
        min_score=settings.faq_min_score,
        embedder=load_local_embedder(),
        load_vectors=store.load_vectors,
    )
    await index.refresh()
    return index


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def _create_app(settings: Settings) -> web.Application:
    """Imported here: the channels' SDKs load only when the server runs, not for CLI tasks."""
    from bot.app import create_app

    return create_app(settings)


if __name__ == "__main__":
    sys.exit(main())
