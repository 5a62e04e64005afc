"""FAQ import parsing, exercised through real files: every bad file must name its row."""

from __future__ import annotations

import json
import runpy
import zipfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.errors import ImportFileError
from bot.types import SUPPORTED_LANGUAGES, FaqEntry
from knowledge.importer import (
    MAX_ANSWER_CHARS,
    MAX_CATEGORY_CHARS,
    MAX_FILE_BYTES,
    MAX_ID_CHARS,
    MAX_QUESTION_CHARS,
    MAX_ROWS,
    SAMPLE_FAQ_PATH,
    load_faq_file,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
HEADER = "id,question,answer,category,tags,lang,paraphrases"


def write_json(path: Path, items: Sequence[object]) -> Path:
    path.write_text(json.dumps({"faq": list(items)}, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, *lines: str, bom: bool = False) -> Path:
    text = "\n".join(lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def import_error(path: Path) -> ImportFileError:
    with pytest.raises(ImportFileError) as info:
        load_faq_file(path)
    return info.value


def item(faq_id: str = "returns", **fields: Any) -> dict[str, Any]:
    return {"id": faq_id, "question": "How do I return?", "answer": "Via My orders."} | fields


# --- valid files ------------------------------------------------------------------------


def test_json_keeps_every_field_and_language(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "faq.json",
        [
            item(
                " returns ",
                lang="en",
                category="returns",
                tags=["returns", " refund ", ""],
                paraphrases=["Can I send it back?", "Return policy?"],
            ),
            item("returns", lang="ZH", question="如何退货？", answer="请在“我的订单”中申请退货。"),
            item("hours", category="", tags=None),
        ],
    )

    entries = load_faq_file(path)

    assert entries == [
        FaqEntry(
            faq_id="returns",
            language="en",
            question="How do I return?",
            answer="Via My orders.",
            category="returns",
            tags=("returns", "refund"),
            paraphrases=("Can I send it back?", "Return policy?"),
        ),
        FaqEntry(
            faq_id="returns",
            language="zh",
            question="如何退货？",
            answer="请在“我的订单”中申请退货。",
        ),
        FaqEntry(
            faq_id="hours", language="en", question="How do I return?", answer="Via My orders."
        ),
    ]


def test_missing_lang_takes_the_default_language(tmp_path: Path) -> None:
    path = write_json(tmp_path / "faq.json", [item("a"), item("b", lang="fr")])

    entries = load_faq_file(path, default_language="de")

    assert [(e.faq_id, e.language) for e in entries] == [("a", "de"), ("b", "fr")]


def test_an_unsupported_default_language_is_a_caller_bug(tmp_path: Path) -> None:
    path = write_json(tmp_path / "faq.json", [item()])

    with pytest.raises(ValueError, match="default_language 'pt'"):
        load_faq_file(path, default_language="pt")


def test_json_integer_id_becomes_text(tmp_path: Path) -> None:
    path = write_json(tmp_path / "faq.json", [item() | {"id": 12}])

    assert load_faq_file(path)[0].faq_id == "12"


def test_csv_with_comma_splits_tags_and_paraphrases_on_pipes(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "faq.csv",
        HEADER,
        'returns,How do I return?,"Open the order, then choose Return.",returns,returns| refund,en,'
        "Can I send it back?|Is there a return policy; how long?",
        "returns,Wie schicke ich etwas zurück?,Über Meine Bestellungen.,,,de,",
    )

    first, second = load_faq_file(path)

    assert first.answer == "Open the order, then choose Return."
    assert first.tags == ("returns", "refund")
    assert first.paraphrases == ("Can I send it back?", "Is there a return policy; how long?")
    assert (second.language, second.category, second.tags, second.paraphrases) == (
        "de",
        None,
        (),
        (),
    )


def test_csv_with_semicolons_and_bom_from_european_excel(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "faq.csv",
        "ID;Question;Answer;Category;Tags;Lang",
        'versand;Was kostet der Versand?;Ab 50 €, sonst 4,90 €.;shipping;"versand;kosten";de',
        bom=True,
    )

    (entry,) = load_faq_file(path)

    assert entry.faq_id == "versand"  # the BOM did not stick to the first column name
    assert entry.answer == "Ab 50 €, sonst 4,90 €."
    assert entry.tags == ("versand", "kosten")
    assert entry.language == "de"


def test_csv_only_required_columns_and_blank_lines(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "faq.csv", "id,question,answer", "", "a,Q?,A.", ",,", "b,Q2?,A2.")

    entries = load_faq_file(path)

    assert [e.faq_id for e in entries] == ["a", "b"]


def test_xlsx_reads_first_sheet_numbers_and_skips_empty_rows(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "faq.xlsx",
        [
            ["id", "question", "answer", "category", "tags", "lang", "paraphrases"],
            [12, "Where is my order?", "See My orders.", "orders", "tracking|orders", "en", None],
            [None, None, None, None, None, None, None],
            [7.0, "Wo ist meine Bestellung?", "Unter Meine Bestellungen.", None, None, "de", "a;b"],
        ],
    )

    first, second = load_faq_file(path)

    assert (first.faq_id, first.tags, first.category) == ("12", ("tracking", "orders"), "orders")
    assert (second.faq_id, second.language, second.paraphrases) == ("7", "de", ("a", "b"))


def test_xlsx_row_numbers_match_the_sheet(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "faq.xlsx",
        [["id", "question", "answer"], ["a", "Q?", "A."], [], [], ["b", "Q?", ""]],
    )

    error = import_error(path)

    assert error.row == 5
    assert str(error) == f"{path}, row 5: answer is empty"


def test_xlsx_with_a_wrong_stored_size_is_read_to_the_end(tmp_path: Path) -> None:
    built = write_xlsx(
        tmp_path / "built.xlsx",
        [["id", "question", "answer"], ["a", "Q?", "A."], ["b", "Q?", "A."], ["c", "Q?", ""]],
    )
    path = tmp_path / "faq.xlsx"
    with zipfile.ZipFile(built) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:C4"', b'<dimension ref="A1:C2"')
            target.writestr(info, data)

    assert "row 4: answer is empty" in str(import_error(path))


# --- shipped and example files ----------------------------------------------------------


def test_sample_faq_has_every_entry_in_every_language_with_paraphrases() -> None:
    entries = load_faq_file(SAMPLE_FAQ_PATH)

    languages_by_id: dict[str, set[str]] = {}
    for entry in entries:
        languages_by_id.setdefault(entry.faq_id, set()).add(entry.language)
        assert 2 <= len(entry.paraphrases) <= 4, (entry.faq_id, entry.language)
        assert entry.category, (entry.faq_id, entry.language)
        assert entry.tags, (entry.faq_id, entry.language)
    assert 10 <= len(languages_by_id) <= 15
    assert all(langs == set(SUPPORTED_LANGUAGES) for langs in languages_by_id.values())


def test_sample_faq_states_the_language_of_every_version() -> None:
    document = json.loads(SAMPLE_FAQ_PATH.read_text(encoding="utf-8"))

    languages = Counter(row.get("lang") for row in document["faq"])

    assert set(languages) == set(SUPPORTED_LANGUAGES)  # no version relies on the default
    assert len(set(languages.values())) == 1


def test_example_files_hold_the_same_entries(tmp_path: Path) -> None:
    script = runpy.run_path(str(EXAMPLES / "make_faq_xlsx.py"))
    workbook = tmp_path / "faq.xlsx"
    script["write_workbook"](EXAMPLES / "faq.csv", workbook)

    from_json = load_faq_file(EXAMPLES / "faq.json")

    assert len(from_json) >= 3
    assert load_faq_file(EXAMPLES / "faq.csv") == from_json
    assert load_faq_file(workbook) == from_json


# --- whole-file problems ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["faq.txt", "faq.xls", "faq"])
def test_unsupported_file_types_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("id,question,answer\n", encoding="utf-8")

    error = import_error(path)

    assert "use a .json, .csv or .xlsx file" in str(error)
    assert error.row is None


def test_missing_file(tmp_path: Path) -> None:
    assert str(import_error(tmp_path / "nope.csv")) == f"{tmp_path / 'nope.csv'}: file not found"


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)

    assert "the limit is 20 MB" in str(import_error(path))


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "faq.json"
    path.write_text('{"faq": [\n  {"id": "a",}\n]}', encoding="utf-8")

    assert "invalid JSON at line 2, column 14" in str(import_error(path))


@pytest.mark.parametrize(
    ("document", "found"),
    [
        ("[]", "found a list"),
        ('{"faqs": []}', "found the keys 'faqs'"),
        ('{"faq": {"id": "a"}}', 'found "faq" set to an object'),
    ],
)
def test_json_top_level_shape(tmp_path: Path, document: str, found: str) -> None:
    path = tmp_path / "faq.json"
    path.write_text(document, encoding="utf-8")

    message = str(import_error(path))

    assert 'expected an object with a "faq" list at the top level' in message
    assert found in message


@pytest.mark.parametrize(
    ("name", "content"), [("faq.json", '{"faq": []}'), ("faq.csv", HEADER), ("faq.csv", "")]
)
def test_a_file_without_entries_is_refused(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    message = str(import_error(path))

    assert "the file contains no FAQ entries" in message or "the file is empty" in message


def test_csv_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_bytes(f"{HEADER}\nversand,Größe?,Ja.,,,de,\n".encode("latin-1"))

    message = str(import_error(path))

    assert "not UTF-8 text (first bad byte on line 2); save it as UTF-8" in message


def test_csv_in_utf16(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_bytes(f"{HEADER}\n".encode("utf-16"))

    assert "UTF-16" in str(import_error(path))


def test_xlsx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "faq.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 old binary excel")

    assert "not an .xlsx workbook" in str(import_error(path))


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "faq.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a spreadsheet")

    error = import_error(path)

    assert "cannot read the workbook" in str(error)
    assert error.__cause__ is not None


def test_too_many_rows_stops_at_the_first_row_over_the_limit(tmp_path: Path) -> None:
    rows = (f"id{n},Q?,A." for n in range(MAX_ROWS + 5))
    path = write_csv(tmp_path / "faq.csv", "id,question,answer", *rows)

    error = import_error(path)

    assert error.row == MAX_ROWS + 2
    assert f"the limit is {MAX_ROWS} entries per file" in str(error)


# --- header problems (CSV and XLSX) -----------------------------------------------------


def test_unknown_column_is_named_with_a_suggestion(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "faq.csv", "id,qestion,answer,notes", "a,Q?,A.,x")

    error = import_error(path)

    assert error.row == 1
    assert "unknown column(s) 'qestion' (did you mean 'question'?), 'notes'" in str(error)


def test_missing_required_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "faq.xlsx", [["id", "question", "tags"], ["a", "Q?", "x"]])

    error = import_error(path)

    assert str(error) == f"{path}, row 1: missing required column(s) answer"


def test_header_row_left_empty(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "faq.csv", ",,", "a,Q?,A.")

    error = import_error(path)

    assert error.row == 1
    assert "the first row must hold the column names: id, question, answer" in str(error)


def test_duplicate_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "faq.csv", "id,question,answer,Tags,tags", "a,Q?,A.,x,y")

    assert "column 'tags' appears twice" in str(import_error(path))


def test_value_in_a_column_without_a_name(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "faq.csv", "id,question,answer,", "a,Q?,A.,", "b,Q?,A.,oops")

    error = import_error(path)

    assert error.row == 3
    assert "cell D3 has a value but its column has no name" in str(error)


# --- row problems ------------------------------------------------------------------------


def test_duplicate_id_and_language_names_both_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "faq.csv",
        HEADER,
        "returns,Q?,A.,,,en,",
        "returns,Q?,A.,,,de,",
        "returns,Q again?,A.,,,EN,",
    )

    error = import_error(path)

    assert error.row == 4
    assert "row 4: duplicate id 'returns' with lang 'en'; row 2 has the same" in str(error)


def test_duplicate_in_json_uses_list_positions(tmp_path: Path) -> None:
    path = write_json(tmp_path / "faq.json", [item("a"), item("b"), item("a", lang="en")])

    assert "row 3: duplicate id 'a' with lang 'en'; row 1 has" in str(import_error(path))


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"id": "  "}, "id is empty"),
        ({"question": ""}, "question is empty"),
        ({"answer": None}, "answer is empty"),
        ({"id": "x" * (MAX_ID_CHARS + 1)}, "id is too long: 101 characters (limit 100)"),
        (
            {"question": "q" * (MAX_QUESTION_CHARS + 1)},
            "question is too long: 2001 characters (limit 2000)",
        ),
        (
            {"answer": "a" * (MAX_ANSWER_CHARS + 1)},
            "answer is too long: 10001 characters (limit 10000)",
        ),
        (
            {"category": "c" * (MAX_CATEGORY_CHARS + 1)},
            "category is too long: 65 characters (limit 64)",
        ),
        ({"lang": "pt"}, "lang 'pt' is not supported; use one of en, de, ru, zh, fr, es"),
        ({"tags": "a|b"}, "tags must be a list of texts, found text"),
        ({"tags": ["a", 1]}, "tags must be a list of texts; item 2 is a number"),
        ({"question": 42}, "question must be text, found a number"),
        ({"id": True}, "id must be text, found true/false"),
        (
            {"paraphrases": ["ok", "p" * 2001]},
            "paraphrase 2 is too long: 2001 characters (limit 2000)",
        ),
    ],
)
def test_invalid_json_row_is_named(tmp_path: Path, fields: dict[str, Any], problem: str) -> None:
    path = write_json(tmp_path / "faq.json", [item("a"), item("b"), item("c") | fields])

    error = import_error(path)

    assert error.row == 3
    assert str(error) == f"{path}, row 3: {problem}"


def test_json_row_that_is_not_an_object(tmp_path: Path) -> None:
    path = write_json(tmp_path / "faq.json", [item(), "returns"])

    assert "row 2: expected an object with id, question and answer, found text" in str(
        import_error(path)
    )


def test_json_unknown_and_missing_fields(tmp_path: Path) -> None:
    typo = write_json(tmp_path / "typo.json", [item(), {"id": "b", "qestion": "Q?", "answer": "A"}])
    missing = write_json(tmp_path / "missing.json", [{"id": "a", "question": "Q?"}])

    assert "row 2: unknown field(s) 'qestion' (did you mean 'question'?)" in str(import_error(typo))
    assert "row 1: missing required field(s) answer" in str(import_error(missing))


def test_csv_row_numbers_count_records_not_lines(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "faq.csv",
        "id,question,answer",
        'a,Q?,"First line',
        'second line of the same cell"',
        "b,Q?,",
    )

    assert "row 3: answer is empty" in str(import_error(path))


def test_xlsx_row_error_names_the_sheet_row(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "faq.xlsx",
        [["id", "question", "answer", "lang"], ["a", "Q?", "A.", "en"], ["b", "Q?", "A.", "xx"]],
    )

    assert "row 3: lang 'xx' is not supported" in str(import_error(path))
