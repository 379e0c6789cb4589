"""Exact-match accuracy of `normalize()` on a labeled set (tests/data/normalize_heldout.tsv).

The file has a header `input<TAB>expected`; lines starting with "#" are comments. In the input
column, \\xNN, \\uNNNN, \\t, \\n, \\r and \\\\ stand for the characters they name, so control
characters can be written down. The held-out batch was committed before the rules it tests were
written; its first score is in the commit that added this module.

    python -m cuckoo.speech.normalize.evaluate [file.tsv] [--misses]
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from cuckoo.speech.normalize.rules import normalize

HELDOUT = Path(__file__).resolve().parents[3] / "tests" / "data" / "normalize_heldout.tsv"
_HEADER = ["input", "expected"]
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[tnr\\])")
_SIMPLE_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


@dataclass(frozen=True)
class Case:
    text: str
    expected: str
    line: int  # in the source file, for messages


@dataclass(frozen=True)
class Miss:
    case: Case
    got: str


@dataclass(frozen=True)
class Score:
    total: int
    misses: list[Miss]

    @property
    def exact(self) -> int:
        return self.total - len(self.misses)

    @property
    def accuracy(self) -> float:
        return self.exact / self.total if self.total else 1.0


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        return _SIMPLE_ESCAPES.get(code) or chr(int(code[1:], 16))

    return _ESCAPE.sub(one, text)


def load_cases(path: Path = HELDOUT) -> list[Case]:
    """Read the TSV; a malformed line raises ValueError naming the file and line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != _HEADER:
        raise ValueError(f"{path}:1: header must be 'input<TAB>expected'")
    cases: list[Case] = []
    for number, raw in enumerate(lines[1:], 2):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = raw.split("\t")
        if len(cells) != 2:
            raise ValueError(f"{path}:{number}: expected 2 tab-separated columns, got {len(cells)}")
        cases.append(Case(_unescape(cells[0]), cells[1], number))
    return cases


def evaluate(cases: list[Case]) -> Score:
    misses = [Miss(c, got) for c in cases if (got := normalize(c.text)) != c.expected]
    return Score(len(cases), misses)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    show_misses = "--misses" in args
    paths = [Path(a) for a in args if a != "--misses"] or [HELDOUT]
    for path in paths:
        score = evaluate(load_cases(path))
        if show_misses:
            for miss in score.misses:
                print(f"{path.name}:{miss.case.line}: {miss.case.text!r}")
                print(f"    want {miss.case.expected!r}")
                print(f"    got  {miss.got!r}")
        print(f"{path.name}: {score.exact}/{score.total} exact ({score.accuracy:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
