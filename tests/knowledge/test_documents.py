"""Documents: Markdown and text split into passages, searched, replaced on re-import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ImportFileError
from knowledge.documents import MAX_CHARS, load_document
from knowledge.passages import PassageIndex, PassageText

HELPLINE = str(Path(sys.executable).with_name("helpline"))

MANUAL = """---
author: support team
---
# Returns policy

Everything about sending things back.

## Opened items
You can return **opened** items within 30 days if they are undamaged.
Keep the [original box](https://example.com/box).

## Damaged on arrival
If your parcel arrived damaged, take photos of the box and the item.

- send them to us within 7 days
- we replace the item at no cost

```
# not a heading: shell example
```
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_is_split_under_its_headings(tmp_path: Path) -> None:
    document = load_document(write(tmp_path / "returns.md", MANUAL))

    assert document.name == "returns.md"
    assert document.title == "Returns policy"
    headings = [heading for heading, _ in document.passages]
    assert headings == ["", "Opened items", "Damaged on arrival"]
    opened = document.passages[1][1]
    assert "return opened items within 30 days" in opened
    assert "**" not in opened and "https://" not in opened
    damaged = document.passages[2][1]
    assert "• send them to us within 7 days" in damaged
    assert "# not a heading" in damaged
    assert "author" not in " ".join(text for _, text in document.passages)


def test_long_text_becomes_bounded_passages(tmp_path: Path) -> None:
    sentence = "The warranty covers defects in materials and workmanship for two years. "
    text = "Warranty\n\n" + sentence * 80 + "\n\nContact us with the serial number.\n"
    document = load_document(write(tmp_path / "warranty.txt", text))

    assert document.title == "Warranty"
    assert len(document.passages) > 3
    assert all(len(passage) <= MAX_CHARS for _, passage in document.passages)
    assert "serial number" in document.passages[-1][1]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("manual.pdf", b"%PDF-1.7", "cannot import '.pdf' files"),
        ("manual.md", b"\xff\xfeh\x00i\x00", "UTF-16"),
        ("manual.md", b"caf\xe9 au lait\n", r"not UTF-8 text \(first bad byte on line 1\)"),
        ("manual.md", b"\n\n   \n", "contains no text"),
    ],
)
def test_bad_document_files_are_refused(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=problem):
        load_document(path)


def test_passages_are_found_with_typos_and_headings(tmp_path: Path) -> None:
    document = load_document(write(tmp_path / "returns.md", MANUAL))
    index = PassageIndex(
        [
            PassageText(document.name, document.title, heading, text, "en", position)
            for position, (heading, text) in enumerate(document.passages)
        ]
    )
    found = index.search_passages("my parcel arived damagd, what now?", "de", limit=2)
    assert found[0].title == "Returns policy › Damaged on arrival"
    assert found[0].document == "returns.md"
    assert found[0].position == 2
    assert 0.0 < found[0].score <= 1.0
    assert index.search_passages("parcel", None, limit=0) == []
    assert PassageIndex([]).search_passages("parcel", None, limit=3) == []


def helpline(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELPLINE_DATABASE_URL": f"sqlite://{db}"}
    return subprocess.run([HELPLINE, *args], env=env, capture_output=True, text=True, timeout=60)


def test_kb_import_search_and_reimport_replace_passages(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite3"
    manual = write(tmp_path / "returns.md", MANUAL)
    notes = write(tmp_path / "warranty.txt", "Warranty\n\nEvery device has a two-year warranty.\n")

    imported = helpline("kb", "import", str(manual), str(notes), db=db)
    assert imported.returncode == 0, imported.stderr
    assert "imported: returns.md (3 passages)" in imported.stdout
    found = helpline("kb", "search", "parcel", "arrived", "damaged", db=db)
    assert "Returns policy › Damaged on arrival" in found.stdout.splitlines()[0]

    write(manual, "# Returns policy\n\n## Exchanges\nWe exchange sizes for free.\n")
    again = helpline("kb", "import", str(manual), db=db)
    assert "imported: returns.md (1 passages)" in again.stdout
    gone = helpline("kb", "search", "parcel", "arrived", "damaged", db=db)
    assert "Damaged on arrival" not in gone.stdout
    listed = helpline("kb", "list", db=db)
    assert "returns.md" in listed.stdout and "warranty.txt" in listed.stdout
    assert "2 documents" in listed.stdout

    unchanged = helpline("kb", "import", str(manual), db=db)
    assert "unchanged: returns.md" in unchanged.stdout
    assert helpline("kb", "remove", "warranty.txt", db=db).returncode == 0
    assert "1 documents" in helpline("kb", "list", db=db).stdout


def test_kb_import_with_one_bad_file_imports_nothing(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite3"
    good = write(tmp_path / "returns.md", MANUAL)
    bad = tmp_path / "broken.md"
    bad.write_bytes(b"caf\xe9\n")

    result = helpline("kb", "import", str(good), str(bad), db=db)

    assert result.returncode == 1
    assert "broken.md: the file is not UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr
    assert "0 documents" in helpline("kb", "list", db=db).stdout
