"""CSV files the admin hands out, written line by line, with every text cell kept from being
run as a formula by a spreadsheet (OWASP "CSV injection"), and read back as written.

A cell starting with = + - @ tab or CR is a formula to Excel, LibreOffice and Sheets; a
leading apostrophe makes it text. Numbers are left alone: "-12.50" (a credit) must stay a
number. So that an import reads exactly what the export wrote, a cell that already starts
with an apostrophe gets one too: `unescaped` then strips exactly one whenever one leads.
"""

import csv
import re
from collections.abc import Iterable, Iterator, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
# A plain decimal number, as our amounts and counts are written (no exponent, no spaces).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def escaped(cell: str) -> str:
    """The cell as written to a file: text a spreadsheet would run (or an apostrophe that
    reading back would strip) behind one more apostrophe; numbers as they are."""
    if cell.startswith((*FORMULA_START, ESCAPE)) and not _NUMBER.fullmatch(cell):
        return ESCAPE + cell
    return cell


def unescaped(cell: str) -> str:
    """A cell of an uploaded file as it was before `escaped`."""
    return cell.removeprefix(ESCAPE)


class _Line:
    """csv.writer's file: hands back each line instead of keeping it."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """The file line by line, as the rows come (never the whole file in memory), every cell
    escaped."""
    writer = csv.writer(_Line())
    yield writer.writerow([escaped(cell) for cell in header])
    for row in rows:
        yield writer.writerow([escaped(cell) for cell in row])
