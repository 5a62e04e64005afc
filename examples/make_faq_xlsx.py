"""Build `faq.xlsx` from `faq.csv`, so the spreadsheet example never drifts from the CSV one.

The workbook is generated rather than kept in git: a binary file can't be reviewed.

    python examples/make_faq_xlsx.py [OUTPUT]    # default: examples/faq.xlsx
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "faq.csv"
COLUMN_WIDTHS = {"A": 18, "B": 40, "C": 80, "D": 12, "E": 24, "F": 6, "G": 60}


def write_workbook(source: Path, target: Path) -> None:
    """Copy every CSV row onto the first sheet; the header stays in row 1, as the importer wants."""
    workbook = Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):
        raise TypeError("a new workbook should start with one worksheet")
    sheet.title = "FAQ"
    with source.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    for column, width in COLUMN_WIDTHS.items():
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    workbook.save(target)


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else HERE / "faq.xlsx"
    write_workbook(SOURCE, target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
