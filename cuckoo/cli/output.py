"""What the listing commands share: one JSON document for `--json`, rich tables on a terminal
and plain tab-separated lines in a pipe; the `--json` flag and a group's usage.

- `emit_json`: one document on one line of stdout, UTF-8 whatever the locale, non-ASCII kept
  as it is; times are ISO 8601 with their offset (a naive time is the store's UTC).
- `show_table`: a rich table when stdout is a terminal; otherwise a header line and one line
  per row, cells separated by a tab, nothing wrapped, no colours or box drawing, so that
  `cut -f3` and `awk -F'\\t'` work; titles and `note`s then go to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "add_json_flag",
    "dumps",
    "emit_json",
    "group_usage",
    "is_terminal",
    "note",
    "plain_lines",
    "show_table",
    "to_json",
    "wants_json",
]


def is_terminal(stream: IO[str] | None = None) -> bool:
    """Whether `stream` (default: stdout) is a terminal a person reads."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def to_json(value: Any) -> Any:
    """`value` as plain JSON values: times ISO 8601 with offset, enums by value, paths as text,
    dataclasses as objects."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    return value


def dumps(document: Any) -> str:
    """One line: `tail -n1`, `grep` and JSON-lines readers work as well as `jq`."""
    return json.dumps(to_json(document), ensure_ascii=False)


def emit_json(document: Any, stream: IO[str] | None = None) -> None:
    """Write `document` as one JSON document and a newline, encoded as UTF-8 even when the
    locale says otherwise (a script reads bytes, not the admin's locale)."""
    stream = sys.stdout if stream is None else stream
    text = dumps(document) + "\n"
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
        stream.flush()
        return
    stream.flush()  # whatever was printed before stays before
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def _plain_cell(cell: str) -> str:
    # A tab or a line break inside a cell would shift every column after it.
    return " ".join(cell.split()) if any(c in cell for c in "\t\r\n") else cell


def plain_lines(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The header and the rows as tab-separated lines."""
    return ["\t".join(_plain_cell(c) for c in line) for line in [headers, *rows]]


def show_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    right: Sequence[str] = (),
    no_wrap: Sequence[str] = (),
    fit: bool = True,
    stream: IO[str] | None = None,
) -> None:
    """A rich table on a terminal (`right`: right-aligned columns; `no_wrap`: columns never
    folded; `fit=False`: as wide as its cells, wider than the terminal if need be, for
    `less -S`), tab-separated lines elsewhere, with the title on stderr (it is not a row)."""
    stream = sys.stdout if stream is None else stream
    if not is_terminal(stream):
        if title:
            print(title, file=sys.stderr)
        for line in plain_lines(headers, rows):
            print(line, file=stream)
        return
    table = Table(
        title=title, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True
    )
    for h in headers:
        table.add_column(
            h, justify="right" if h in right else "left", no_wrap=h in no_wrap, overflow="fold"
        )
    for row in rows:
        table.add_row(*(Text(c) for c in row))  # Text: "[silero]" is not rich markup
    console = Console(file=stream)
    if not fit:  # squeezed into the terminal, a dozen columns fold into one letter each
        unbounded = console.options.update_width(10_000)
        console.width = max(console.width, console.measure(table, options=unbounded).maximum)
    console.print(table)


def note(text: str) -> None:
    """A line for the person reading, not part of the listing: on stdout under a table on a
    terminal, on stderr in a pipe (so stdout stays rows to cut)."""
    print(text, file=sys.stdout if is_terminal() else sys.stderr)


def add_json_flag(parser: argparse.ArgumentParser, *, inherit: bool = False) -> None:
    """`--json` on a listing. `inherit`: the `list` action of a group that lists by default
    (`cuckoo voices --json` and `cuckoo voices list --json`): the action's flag has no default
    of its own, so it does not undo the group's (`cuckoo voices --json list`)."""
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if inherit else False,
        help="print one JSON document (its shape: README, Command reference)",
    )


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def group_usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """What a command group without its action does when it has nothing to list: its help on
    stdout, exit status 2 (as `cuckoo` alone)."""

    def usage(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return usage
