"""cuckoo/cli/output.py: the JSON a script reads and the plain lines it cuts."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cuckoo.cli.output import dumps, emit_json, is_terminal, plain_lines, show_table, to_json
from cuckoo.domain import Outcome, Status


@dataclass
class Row:
    name: str
    at: datetime


def test_times_are_iso_with_their_offset() -> None:
    moscow = datetime(2026, 11, 19, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert to_json(moscow) == "2026-11-19T10:00:00+03:00"
    assert to_json(datetime(2026, 11, 19, 7, 0, tzinfo=UTC)) == "2026-11-19T07:00:00+00:00"
    # a naive time out of the store is UTC (SQLite gives them back naive)
    assert to_json(datetime(2026, 11, 19, 7, 0)) == "2026-11-19T07:00:00+00:00"
    assert to_json(date(2026, 11, 19)) == "2026-11-19"


def test_plain_values_from_cuckoo_types() -> None:
    doc = {
        "status": Status.PENDING,
        "outcome": Outcome.NO_ANSWER,
        "path": Path("/var/lib/cuckoo"),
        "rows": (Row("Пётр", datetime(2026, 1, 2, tzinfo=UTC)),),
        "none": None,
        1: {"n": 1.5},
    }
    assert to_json(doc) == {
        "status": "pending",
        "outcome": "no_answer",
        "path": "/var/lib/cuckoo",
        "rows": [{"name": "Пётр", "at": "2026-01-02T00:00:00+00:00"}],
        "none": None,
        "1": {"n": 1.5},
    }


def test_dumps_is_one_line_and_keeps_cyrillic() -> None:
    text = dumps({"имя": "Пётр\nИльич", "n": [1, 2]})
    assert "\n" not in text
    assert "Пётр" in text and "\\u" not in text
    assert json.loads(text) == {"имя": "Пётр\nИльич", "n": [1, 2]}


def test_emit_json_writes_utf8_whatever_the_stream_encoding() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", newline="")  # LANG=C with no UTF-8
    stream.write("before\n")
    emit_json({"сценарий": "Заказ готов"}, stream)
    data = raw.getvalue()
    assert data.startswith(b"before\n")  # what was printed earlier stays earlier
    assert data.endswith(b"\n") and data.count(b"\n") == 2
    assert json.loads(data.decode("utf-8").splitlines()[1]) == {"сценарий": "Заказ готов"}


def test_emit_json_on_a_stream_without_bytes() -> None:
    stream = io.StringIO()
    emit_json({"a": datetime(2026, 1, 1, tzinfo=UTC)}, stream)
    assert stream.getvalue() == '{"a": "2026-01-01T00:00:00+00:00"}\n'


def test_plain_lines_are_tab_separated_and_one_line_per_row() -> None:
    lines = plain_lines(["id", "detail"], [["1", "ok"], ["2", "two\tparts\nand a line"]])
    assert lines == ["id\tdetail", "1\tok", "2\ttwo parts and a line"]
    assert all(len(line.split("\t")) == 2 for line in lines)


def test_show_table_in_a_pipe_is_plain(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert not is_terminal(out)
    show_table(
        ["name", "count"], [["pending", "3"], ["[bold]x[/bold]", "1"]], title="t", stream=out
    )
    assert out.getvalue() == "name\tcount\npending\t3\n[bold]x[/bold]\t1\n"  # no markup, no box
    assert capsys.readouterr().err == "t\n"  # the title is not a row
