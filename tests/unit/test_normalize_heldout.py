"""The blind held-out batches (tests/data/normalize_heldout*.tsv) as a regression floor.

Each batch was committed before normalize() first ran on it; the blind scores are in the commits
that followed (batch 1: 101/226 = 44.7 %, batch 2: 118/123 = 95.9 %). Raise a floor when a fix
lifts it; never lower one to let a change in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cuckoo.speech.normalize.evaluate import HELDOUT, evaluate, load_cases, main

SETS = {
    "heldout": HELDOUT,
    "heldout2": HELDOUT.with_name("normalize_heldout2.tsv"),
}
# Exact-match accuracy reached, as a fraction of the rows.
FLOORS = {"heldout": 226 / 226, "heldout2": 123 / 123}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_heldout_accuracy_stays_at_its_floor(name: str) -> None:
    score = evaluate(load_cases(SETS[name]))
    misses = [
        f"{m.case.line}: {m.case.text!r} → {m.got!r} (want {m.case.expected!r})"
        for m in score.misses
    ]
    assert score.accuracy >= FLOORS[name] - 1e-9, misses


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_heldout_sets_are_big_and_varied(name: str) -> None:
    cases = load_cases(SETS[name])
    assert len(cases) >= 100
    assert len({c.text for c in cases}) == len(cases)
    assert sum(c.text == c.expected for c in cases) >= 4  # text that must pass unchanged
    assert any(ord(ch) < 32 for c in cases for ch in c.text)  # control characters, decoded


def test_loader_decodes_escapes_and_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "set.tsv"
    path.write_text(
        "input\texpected\n# a comment\n\nа\\x07б\\tв\\u00adг\\\\\tа б в\n", encoding="utf-8"
    )
    (case,) = load_cases(path)
    assert case.text == "а\x07б\tв\u00adг\\"
    assert (case.expected, case.line) == ("а б в", 4)


@pytest.mark.parametrize(
    "text", ["wrong\theader\nx\ty\n", "input\texpected\nonly one column\n", ""]
)
def test_loader_names_file_and_line_of_a_bad_row(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:\d+:"):
        load_cases(path)


def test_main_prints_the_score_and_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mini.tsv"
    path.write_text("input\texpected\n5 кг\tпять килограммов\n5 кг\tпять кило\n", encoding="utf-8")
    assert main([str(path), "--misses"]) == 0
    out = capsys.readouterr().out
    assert "mini.tsv: 1/2 exact (50.0%)" in out
    assert "want 'пять кило'" in out
