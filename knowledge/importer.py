"""Read an admin's FAQ file (.json, .csv or .xlsx) into validated `FaqEntry` values.

All or nothing: the first problem raises `ImportFileError` naming the file and the row
as the admin sees it in their editor, so a bad file never imports half its entries.
No database here; `storage.faq.FaqStore.import_entries` writes what this returns.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from bot.errors import ImportFileError
from bot.types import SUPPORTED_LANGUAGES, FaqEntry

SAMPLE_FAQ_PATH = Path(__file__).with_name("sample_faq.json")
"""Generic shop FAQ in every supported language, loaded when a fresh install has none."""

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_ID_CHARS = 100
MAX_CATEGORY_CHARS = 64
MAX_QUESTION_CHARS = 2_000
MAX_ANSWER_CHARS = 10_000

REQUIRED_FIELDS: tuple[str, ...] = ("id", "question", "answer")
OPTIONAL_FIELDS: tuple[str, ...] = ("category", "tags", "lang", "paraphrases")
ALL_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS
LIST_FIELDS: frozenset[str] = frozenset({"tags", "paraphrases"})

_HEADER_ROW = 1
_MB = 1024 * 1024
_ROW_LIMIT = f"the limit is {MAX_ROWS} entries per file, split it into several files"

Row = tuple[int, Mapping[str, object]]
"""A row number as the admin sees it, and its fields by name."""


class _RowError(ValueError):
    """A problem inside one row; the caller adds the file and row number."""


def load_faq_file(path: Path, *, default_language: str = "en") -> list[FaqEntry]:
    """Parse and validate a whole FAQ file; the format follows the file extension."""
    if default_language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"default_language {default_language!r} is not supported")
    where = str(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        kind = f"{path.suffix!r} files" if path.suffix else "files without an extension"
        raise ImportFileError(where, f"cannot import {kind}; use a .json, .csv or .xlsx file")
    rows = reader(where, _read_bytes(path))
    entries = _validate(where, rows, default_language)
    if not entries:
        raise ImportFileError(where, "the file contains no FAQ entries")
    return entries


def _read_bytes(path: Path) -> bytes:
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFileError(
                where, f"the file is {size / _MB:.1f} MB; the limit is {MAX_FILE_BYTES // _MB} MB"
            )
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportFileError(where, "file not found") from exc
    except IsADirectoryError as exc:
        raise ImportFileError(where, "this is a folder, not a file") from exc
    except OSError as exc:
        raise ImportFileError(where, f"cannot read the file: {exc.strerror or exc}") from exc


# --- JSON -------------------------------------------------------------------------------


def _read_json(where: str, data: bytes) -> list[Row]:
    """`{"faq": [{...}, ...]}`; a row number is the 1-based position in the list."""
    try:
        document = json.loads(_decode(where, data))
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            where, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise ImportFileError(where, "invalid JSON: nested too deeply") from exc
    items = document.get("faq") if isinstance(document, dict) else None
    if not isinstance(items, list):
        if not isinstance(document, dict):
            found = _describe(document)
        elif "faq" in document:
            found = f'"faq" set to {_describe(items)}'
        else:
            found = f"the keys {', '.join(map(repr, document)) or '(none)'}"
        raise ImportFileError(
            where, f'expected an object with a "faq" list at the top level, found {found}'
        )
    if len(items) > MAX_ROWS:
        raise ImportFileError(where, f"{len(items)} entries; {_ROW_LIMIT}")
    rows: list[Row] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ImportFileError(
                where,
                f"expected an object with id, question and answer, found {_describe(item)}",
                row=number,
            )
        problem = _field_name_problem(item.keys(), "field") or _missing_problem(item, "field")
        if problem:
            raise ImportFileError(where, problem, row=number)
        rows.append((number, item))
    return rows


# --- CSV --------------------------------------------------------------------------------


def _read_csv(where: str, data: bytes) -> list[Row]:
    """UTF-8 with or without BOM; `,` or `;` between cells, told apart by the header line."""
    text = _decode(where, data, hint=" (in Excel: Save As, 'CSV UTF-8')")
    if not text.strip():
        raise ImportFileError(where, "the file is empty")
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    cells: list[tuple[int, list[str]]] = []
    try:
        _collect(where, reader, into=cells)
    except csv.Error as exc:
        row = len(cells) + 1
        raise ImportFileError(where, f"cannot read this CSV row: {exc}", row=row) from exc
    return _table_rows(where, cells)


# --- XLSX -------------------------------------------------------------------------------


def _read_xlsx(where: str, data: bytes) -> list[Row]:
    """The first sheet of a workbook; row numbers are the sheet's own."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportFileError(
            where, "this is not an .xlsx workbook (an old .xls file? save it as .xlsx first)"
        )
    try:
        cells = _xlsx_cells(where, data)
    except ImportFileError:
        raise
    except Exception as exc:  # any parser failure on a damaged file is the file's fault
        raise ImportFileError(where, f"cannot read the workbook: {exc}") from exc
    return _table_rows(where, cells)


def _xlsx_cells(where: str, data: bytes) -> list[tuple[int, list[str]]]:
    with warnings.catch_warnings():
        # Notes about unsupported Excel features (data validation, styles) don't matter here.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise ImportFileError(where, "the workbook has no sheets")
            sheet = workbook.worksheets[0]
            if isinstance(sheet, ReadOnlyWorksheet):
                sheet.reset_dimensions()  # a wrong stored size would silently cut rows off
            cells: list[tuple[int, list[str]]] = []
            rows = sheet.iter_rows(values_only=True)
            _collect(where, ([_cell_text(value) for value in row] for row in rows), into=cells)
            return cells
        finally:
            workbook.close()


def _cell_text(value: object) -> str:
    """Spreadsheet cells hold numbers and dates too; an id typed as 12 must stay "12"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


# --- tables (CSV and XLSX) --------------------------------------------------------------


def _collect(where: str, rows: Iterable[list[str]], *, into: list[tuple[int, list[str]]]) -> None:
    """Number the rows from the header on; stop early past MAX_ROWS non-empty data rows."""
    filled = 0
    for number, values in enumerate(rows, start=_HEADER_ROW):
        into.append((number, values))
        if number > _HEADER_ROW and not _is_blank(values):
            filled += 1
            if filled > MAX_ROWS:
                raise ImportFileError(where, f"too many entries; {_ROW_LIMIT}", row=number)


def _table_rows(where: str, cells: Sequence[tuple[int, list[str]]]) -> list[Row]:
    """Map each data row onto the header's column names; fully empty rows are skipped."""
    if not cells:
        raise ImportFileError(where, "the file is empty")
    header = [name.strip().lower() for name in cells[0][1]]
    named = [name for name in header if name]
    if not named:
        raise ImportFileError(
            where, f"the first row must hold the column names: {', '.join(ALL_FIELDS)}", row=1
        )
    problem = (
        _duplicate_column_problem(named)
        or _field_name_problem(named, "column")
        or _missing_problem(named, "column")
    )
    if problem:
        raise ImportFileError(where, problem, row=_HEADER_ROW)
    rows: list[Row] = []
    for number, values in cells[1:]:
        if _is_blank(values):
            continue
        fields: dict[str, object] = {}
        for index, value in enumerate(values):
            name = header[index] if index < len(header) else ""
            if not name:
                if value.strip():
                    column = get_column_letter(index + 1)
                    raise ImportFileError(
                        where,
                        f"cell {column}{number} has a value but its column has no name",
                        row=number,
                    )
                continue
            fields[name] = _split_list(value) if name in LIST_FIELDS else value
        rows.append((number, fields))
    return rows


def _split_list(cell: str) -> list[str]:
    """`a|b|c`; `;` is accepted too, unless `|` is used, so a paraphrase may contain `;`."""
    separator = "|" if "|" in cell else ";"
    return [part for part in cell.split(separator) if part.strip()]


def _is_blank(values: Iterable[str]) -> bool:
    return not any(value.strip() for value in values)


def _duplicate_column_problem(names: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return f"column {name!r} appears twice in the header"
        seen.add(name)
    return None


# --- shared checks ----------------------------------------------------------------------


def _decode(where: str, data: bytes, *, hint: str = "") -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(where, f"the file is UTF-16 encoded; save it as UTF-8{hint}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFileError(
            where,
            f"the file is not UTF-8 text (first bad byte on line {line}); save it as UTF-8{hint}",
        ) from exc


def _field_name_problem(names: Iterable[str], noun: str) -> str | None:
    """Name unknown fields, with a suggestion, so a typo like `qestion` is caught."""
    unknown = [name for name in names if name not in ALL_FIELDS]
    if not unknown:
        return None
    described = []
    for name in unknown:
        close = difflib.get_close_matches(name, ALL_FIELDS, n=1)
        described.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    return f"unknown {noun}(s) {', '.join(described)}; allowed: {', '.join(ALL_FIELDS)}"


def _missing_problem(present: Iterable[str], noun: str) -> str | None:
    have = set(present)
    missing = [name for name in REQUIRED_FIELDS if name not in have]
    if not missing:
        return None
    return f"missing required {noun}(s) {', '.join(missing)}"


def _describe(value: object) -> str:
    """How a JSON value looks to someone who wrote it, not Python's type name."""
    if value is None:
        return "null (or nothing)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


# --- rows to entries --------------------------------------------------------------------


def _validate(where: str, rows: Iterable[Row], default_language: str) -> list[FaqEntry]:
    entries: list[FaqEntry] = []
    first_row: dict[tuple[str, str], int] = {}
    for number, fields in rows:
        try:
            entry = _entry(fields, default_language)
        except _RowError as exc:
            raise ImportFileError(where, str(exc), row=number) from exc
        key = (entry.faq_id, entry.language)
        if key in first_row:
            raise ImportFileError(
                where,
                f"duplicate id {entry.faq_id!r} with lang {entry.language!r}; "
                f"row {first_row[key]} has the same id and lang",
                row=number,
            )
        first_row[key] = number
        entries.append(entry)
    return entries


def _entry(fields: Mapping[str, object], default_language: str) -> FaqEntry:
    faq_id = _text(fields, "id", limit=MAX_ID_CHARS, required=True)
    question = _text(fields, "question", limit=MAX_QUESTION_CHARS, required=True)
    answer = _text(fields, "answer", limit=MAX_ANSWER_CHARS, required=True)
    language = _text(fields, "lang", limit=None).lower() or default_language
    if language not in SUPPORTED_LANGUAGES:
        raise _RowError(
            f"lang {language!r} is not supported; use one of {', '.join(SUPPORTED_LANGUAGES)}"
        )
    paraphrases = _strings(fields, "paraphrases")
    for position, paraphrase in enumerate(paraphrases, start=1):
        if len(paraphrase) > MAX_QUESTION_CHARS:
            raise _RowError(
                f"paraphrase {position} is too long: {len(paraphrase)} characters "
                f"(limit {MAX_QUESTION_CHARS})"
            )
    return FaqEntry(
        faq_id=faq_id,
        language=language,
        question=question,
        answer=answer,
        category=_text(fields, "category", limit=MAX_CATEGORY_CHARS) or None,
        tags=_strings(fields, "tags"),
        paraphrases=paraphrases,
    )


def _text(
    fields: Mapping[str, object], name: str, *, limit: int | None, required: bool = False
) -> str:
    value = fields.get(name)
    if value is None:
        value = ""
    elif name == "id" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # `"id": 12` in JSON means what the admin typed
    if not isinstance(value, str):
        raise _RowError(f"{name} must be text, found {_describe(value)}")
    value = value.strip()
    if required and not value:
        raise _RowError(f"{name} is empty")
    if limit is not None and len(value) > limit:
        raise _RowError(f"{name} is too long: {len(value)} characters (limit {limit})")
    return value


def _strings(fields: Mapping[str, object], name: str) -> tuple[str, ...]:
    """A list of texts, trimmed, without empties or repeats, in the file's order."""
    value = fields.get(name)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _RowError(f"{name} must be a list of texts, found {_describe(value)}")
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise _RowError(f"{name} must be a list of texts; item {position} is {_describe(item)}")
    cleaned = (item.strip() for item in value)
    return tuple(dict.fromkeys(item for item in cleaned if item))


_READERS: dict[str, Callable[[str, bytes], list[Row]]] = {
    ".json": _read_json,
    ".csv": _read_csv,
    ".xlsx": _read_xlsx,
}
