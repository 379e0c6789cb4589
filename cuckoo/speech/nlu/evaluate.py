"""Accuracy and throughput of `understand()` on a labeled set (tests/data/nlu_labeled.tsv).

`LABELED_SETS` lists every labeled file: the main set, written with the rules, and blind
held-out batches, each committed before the parser first ran on it (their first figures are in
the commit messages and in `BLIND_SCORES`; after that they are training data like the main set).

The file has a header and the columns utterance, now (ISO local time without offset), tz (IANA),
intent, time (ISO with offset, or empty when no time is meant). `benchmarks/speech.py` prints
what `evaluate()` returns.

Time accuracy counts every row where a time was expected *or* predicted, so a time invented for
"да" costs as much as a missed one.
"""

from __future__ import annotations

import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cuckoo.domain import JsonObject
from cuckoo.errors import ConfigError
from cuckoo.speech.nlu import DayParts, Intent, understand

DEFAULT_SET = Path(__file__).resolve().parents[3] / "tests" / "data" / "nlu_labeled.tsv"
LABELED_SETS: dict[str, Path] = {
    "main": DEFAULT_SET,
    "heldout": DEFAULT_SET.with_name("nlu_heldout.tsv"),
    "heldout2": DEFAULT_SET.with_name("nlu_heldout2.tsv"),
    "heldout3": DEFAULT_SET.with_name("nlu_heldout3.tsv"),
}
# The first, honest score of each blind batch (intent accuracy, time accuracy), as measured
# before any rule was changed for it: what to expect on answers nobody has seen. Later scores on
# the same batch are after fixes.
BLIND_SCORES: dict[str, tuple[float, float]] = {
    "heldout": (0.981, 0.968),
    "heldout2": (0.984, 1.0),
    "heldout3": (0.590, 0.926),  # 186/315, 50/54: the first batch with later and wrong_number
}
_COLUMNS = ["utterance", "now", "tz", "intent", "time"]


@dataclass(frozen=True)
class LabeledUtterance:
    utterance: str
    now: datetime  # aware, in tz
    intent: Intent
    time: datetime | None
    line: int  # in the source file, for error messages


def load_labeled(path: Path = DEFAULT_SET) -> list[LabeledUtterance]:
    """Read the TSV; errors name the file and line."""
    rows: list[LabeledUtterance] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != _COLUMNS:
        raise ConfigError(f"{path}:1: header must be {chr(9).join(_COLUMNS)!r}")
    for number, raw in enumerate(lines[1:], 2):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = raw.split("\t")
        if len(cells) != 5:
            raise ConfigError(
                f"{path}:{number}: expected 5 tab-separated columns, got {len(cells)}"
            )
        utterance, now_s, tz_s, intent_s, time_s = cells
        try:
            zone = ZoneInfo(tz_s)
            now = datetime.fromisoformat(now_s).replace(tzinfo=zone)
            intent = Intent(intent_s)
            expected = datetime.fromisoformat(time_s) if time_s else None
        except (ValueError, ZoneInfoNotFoundError) as e:
            raise ConfigError(f"{path}:{number}: {e}") from e
        rows.append(LabeledUtterance(utterance, now, intent, expected, number))
    return rows


def _same_moment(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b and a.utcoffset() == b.utcoffset()


def evaluate(rows: Sequence[LabeledUtterance], *, day_parts: DayParts | None = None) -> JsonObject:
    """Run `understand()` over `rows`: intent accuracy, time accuracy, throughput, and errors."""
    errors: list[JsonObject] = []
    intent_ok = time_ok = time_rows = 0
    started = _time.perf_counter()
    for row in rows:
        got = understand(row.utterance, row.now, day_parts=day_parts)
        good_intent = got.intent == row.intent
        intent_ok += good_intent
        good_time = True
        if row.time is not None or got.time is not None:
            time_rows += 1
            good_time = _same_moment(got.time, row.time)
            time_ok += good_time
        if not (good_intent and good_time):
            errors.append(
                {
                    "line": row.line,
                    "utterance": row.utterance,
                    "now": row.now.isoformat(),
                    "expected_intent": str(row.intent),
                    "got_intent": str(got.intent),
                    "expected_time": row.time.isoformat() if row.time else None,
                    "got_time": got.time.isoformat() if got.time else None,
                }
            )
    elapsed = _time.perf_counter() - started
    n = len(rows)
    return {
        "n": n,
        "intent_accuracy": intent_ok / n if n else 0.0,
        "time_accuracy": time_ok / time_rows if time_rows else 1.0,
        "time_rows": time_rows,
        "per_second": n / elapsed if elapsed > 0 else float("inf"),
        "errors": errors,
    }
