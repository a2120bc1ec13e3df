"""Strict CSV reading that accounts for every line of a file.

A spreadsheet export with one broken line must not lose the lines around it: a quote left open,
a line with too few or too many values, a NUL or another character the one rule for text
(core.text) refuses, or bytes that are not UTF-8 each make that one line a `Line` with
problems, and reading goes on. Lines are numbered as a text editor numbers them, the header
being line 1, so a person can find each one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from core.text import unusable_character

# What undecodable bytes become when read with errors="surrogateescape".
NOT_UTF8 = re.compile("[\udc80-\udcff]")
_END_OF_DATA = "unexpected end of data"  # csv's error for a quote still open at the end of the file


def open_text(binary: IO[bytes]) -> io.TextIOWrapper:
    """The file as text for `read_lines`. Bytes that are not UTF-8 become lone surrogates that
    `read_lines` reports on their line, instead of a decoding error that stops the whole file."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")


@dataclass(frozen=True)
class Line:
    """One data line: its values by column, and (column, reason) for each thing that keeps it out."""

    number: int
    values: dict[str, str]
    problems: tuple[tuple[str, str], ...] = ()


class _PhysicalLines:
    """The file's lines for the csv reader, numbered, with a way to read some of them again: the
    lines a broken quote swallowed are reported with it, then read as lines of their own."""

    def __init__(self, text: Iterator[str]) -> None:
        self._source = text
        self._again: list[tuple[int, str]] = []  # a stack: the next line to read again is last
        self._count = 0
        self.taken: list[tuple[int, str]] = []  # the lines of the record being read

    def __iter__(self) -> _PhysicalLines:
        return self

    def __next__(self) -> str:
        if self._again:
            number, line = self._again.pop()
        else:
            line = next(self._source)
            self._count += 1
            number = self._count
        self.taken.append((number, line))
        return line

    def read_again(self, lines: list[tuple[int, str]]) -> None:
        self._again.extend(reversed(lines))


def printable(value: str) -> str:
    """The value with each character that cannot be shown or stored replaced by �."""
    if unusable_character(value) is None:
        return value
    return "".join("�" if unusable_character(ch) else ch for ch in value)


def _column(headers: list[str], index: int) -> str:
    return headers[index] if index < len(headers) else f"column {index + 1}"


def _loose_fields(line: str, delimiter: str) -> list[str]:
    """A line's values as a forgiving reader sees them, alone: what a broken line is shown with."""
    return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])


def _by_column(headers: list[str], values: list[str]) -> dict[str, str]:
    return {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(headers)}


def _quote_problem(taken: list[tuple[int, str]], headers: list[str], delimiter: str, error: str) -> tuple[str, str]:
    number, first = taken[0]
    if len(taken) == 1 and error != _END_OF_DATA:
        # A quote inside an unquoted value, or text after a closing quote.
        index = next(
            (
                i
                for i, part in enumerate(first.rstrip("\r\n").split(delimiter))
                if '"' in part and not (len(part) > 1 and part[0] == part[-1] == '"')
            ),
            0,
        )
        return (
            _column(headers, index),
            'A quote is out of place: quote the whole value and double the quotes inside it ("").',
        )
    # Read alone, the line's last value is the one whose quote runs on.
    column = _column(headers, max(0, len(_loose_fields(first, delimiter)) - 1))
    if len(taken) > 3:
        after = f"; lines {number + 1} to {taken[-1][0]} are read as lines of their own"
    elif len(taken) == 3:
        after = f"; lines {number + 1} and {number + 2} are read as lines of their own"
    elif len(taken) == 2:
        after = f"; line {number + 1} is read as a line of its own"
    else:
        after = ""
    return column, f"A quote opened here is not closed on this line{after}."


def _swallowed_a_line(taken: list[tuple[int, str]], width: int, delimiter: str) -> bool:
    """True when a value running over several lines holds a line that is a whole row by itself:
    then the quote was left open by mistake, and the rows it holds must not vanish into it."""
    return any(len(_loose_fields(line, delimiter)) == width for _, line in taken[1:] if line.strip())


def _value_problems(values: list[str], headers: list[str]) -> list[tuple[str, str]]:
    problems = []
    for index, value in enumerate(values):
        if NOT_UTF8.search(value):
            problems.append(
                (
                    _column(headers, index),
                    "Holds bytes that are not UTF-8 text; save the file as “CSV UTF-8” and upload it again.",
                )
            )
        elif problem := unusable_character(value):
            problems.append((_column(headers, index), problem.replace("send again", "upload the file again")))
    width, count = len(headers), len(values)
    if count > width:
        message = (
            f"This line has {count} values but the file has {width} columns; "
            "quote a value that holds the separator, or remove the extra values."
        )
        problems.append((_column(headers, width), message))
    elif count < width:
        message = (
            f"This line has {count} values but the file has {width} columns: "
            f"“{headers[count]}” and any columns after it are missing."
        )
        problems.append((headers[count], message))
    return problems


def read_lines(text: Iterator[str], *, delimiter: str, headers: list[str]) -> Iterator[Line]:
    """Every non-blank data line after the header, in order, each exactly once.

    A quoted value may run over several lines (a note, an address) unless one of those lines is
    a whole row by itself: then the quote is reported on the line where it opens, and the lines
    after it are read as lines of their own. The sequence is the same at every reading of the
    same file, so a job can resume after the n-th line.
    """
    lines = _PhysicalLines(text)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    width = len(headers)
    header_read = False
    while True:
        lines.taken = []
        try:
            values, error = next(reader), ""
        except StopIteration:
            return
        except csv.Error as exc:
            values, error = [], str(exc)
        taken = lines.taken
        if not header_read:
            header_read = True
            continue
        if not error and len(taken) > 1 and (len(values) != width or _swallowed_a_line(taken, width, delimiter)):
            error = "a quote runs over lines"
        number = taken[0][0]
        if error:
            lines.read_again(taken[1:])
            shown = _by_column(headers, _loose_fields(taken[0][1], delimiter))
            yield Line(number, shown, (_quote_problem(taken, headers, delimiter, error),))
        elif any(v.strip() for v in values):  # blank lines are not rows anyone meant
            yield Line(number, _by_column(headers, values), tuple(_value_problems(values, headers)))
