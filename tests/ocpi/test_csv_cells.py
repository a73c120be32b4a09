"""The admin's CSV cells (ocpi.csv_cells): text a spreadsheet would run as a formula gets a
leading apostrophe, numbers do not, and reading back strips exactly what writing added."""

import csv
import io

import pytest

from ocpi.csv_cells import csv_lines, escaped, unescaped

FORMULAS = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "-", "+"]
NUMBERS = ["-12.50", "12.50", "+3", "0", "-.5", "7."]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_starts_get_an_apostrophe(text: str) -> None:
    assert escaped(text) == "'" + text


@pytest.mark.parametrize("text", NUMBERS)
def test_numbers_stay_numbers(text: str) -> None:
    assert escaped(text) == text


@pytest.mark.parametrize("text", ["Gent Zuid", "", "1e5", "a=b", " =x", "12-13"])
def test_other_text_is_left_alone(text: str) -> None:
    assert escaped(text) == text


def test_a_leading_apostrophe_gets_one_more_so_reading_back_is_exact() -> None:
    assert escaped("'quoted") == "''quoted"
    assert escaped("'") == "''"


@pytest.mark.parametrize("text", [*FORMULAS, *NUMBERS, "'quoted", "''", "'=x", "plain", ""])
def test_reading_back_gives_what_was_written(text: str) -> None:
    assert unescaped(escaped(text)) == text


def test_reading_strips_one_apostrophe_only() -> None:
    assert unescaped("''quoted") == "'quoted"
    assert unescaped("=typed") == "=typed"  # typed in a spreadsheet without one: kept as is


def test_every_cell_of_a_file_is_escaped() -> None:
    text = "".join(csv_lines(["name", "amount"], [["=1+1", "-12.50"], ["'a", "x"]]))

    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "amount"],
        ["'=1+1", "-12.50"],
        ["''a", "x"],
    ]
