"""understand(): table-driven over the whole labeled set, an accuracy summary against the issue's
targets, and the rules that the set alone does not pin down (configurable day parts, zones,
the CLI, Vosk grammars)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cuckoo.cli.main import main as cli_main
from cuckoo.errors import ConfigError
from cuckoo.speech.nlu import DayParts, Intent, Understanding, grammar_for, understand
from cuckoo.speech.nlu.evaluate import LabeledUtterance, evaluate, load_labeled

LABELED = Path(__file__).resolve().parents[1] / "data" / "nlu_labeled.tsv"
ROWS = load_labeled(LABELED)
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 18, 14, 0, tzinfo=MSK)  # a Wednesday


def test_the_set_is_big_and_varied() -> None:
    assert len(ROWS) >= 300
    assert len({r.utterance for r in ROWS}) >= 300
    for intent in Intent:
        assert sum(r.intent == intent for r in ROWS) >= 20, intent
    assert sum(r.time is not None for r in ROWS) >= 150
    assert len({r.now.tzinfo for r in ROWS}) >= 5


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.line}:{r.utterance}" for r in ROWS])
def test_labeled(row: LabeledUtterance) -> None:
    got = understand(row.utterance, row.now)
    assert got.intent == row.intent
    if row.time is None:
        assert got.time is None
    else:
        assert got.time is not None
        assert got.time.isoformat() == row.time.isoformat()


def test_accuracy_meets_the_issue_targets() -> None:
    result = evaluate(ROWS)
    print(
        f"\nNLU on {result['n']} utterances: intents {result['intent_accuracy']:.1%}, "
        f"times {result['time_accuracy']:.1%} of {result['time_rows']}, "
        f"{result['per_second']:.0f} utterances/s, {len(result['errors'])} errors"
    )
    assert result["intent_accuracy"] >= 0.97
    assert result["time_accuracy"] >= 0.95


def test_evaluate_counts_errors_both_ways() -> None:
    rows = [
        LabeledUtterance("да", NOW, Intent.NO, None, 1),  # wrong intent
        LabeledUtterance("завтра", NOW, Intent.LATER, None, 2),  # time not expected
        LabeledUtterance("нет", NOW, Intent.NO, NOW, 3),  # time expected, none given
        LabeledUtterance("ага", NOW, Intent.YES, None, 4),  # right
    ]
    result = evaluate(rows)
    assert result["n"] == 4
    assert result["intent_accuracy"] == 0.75
    assert result["time_rows"] == 2 and result["time_accuracy"] == 0.0
    assert [e["line"] for e in result["errors"]] == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bad\theader\n", ":1: header"),
        (
            "utterance\tnow\ttz\tintent\ttime\nда\t2026-11-18T14:00\tEurope/Moscow\tyes\n",
            ":2: expected 5",
        ),
        ("utterance\tnow\ttz\tintent\ttime\nда\t2026-11-18T14:00\tEurope/Moscow\tmaybe\t\n", ":2:"),
        ("utterance\tnow\ttz\tintent\ttime\nда\tвчера\tEurope/Moscow\tyes\t\n", ":2:"),
        ("utterance\tnow\ttz\tintent\ttime\nда\t2026-11-18T14:00\tMars/Base\tyes\t\n", ":2:"),
    ],
)
def test_load_labeled_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "set.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_labeled(path)


def test_day_parts_are_configurable() -> None:
    parts = DayParts(morning=(8, 30), day=(12, 0), after_lunch=(15, 0), evening=(19, 0))
    parts = DayParts(**{**parts.__dict__, "default": (11, 0)})
    cases = {
        "завтра утром": datetime(2026, 11, 19, 8, 30, tzinfo=MSK),
        "завтра днём": datetime(2026, 11, 19, 12, 0, tzinfo=MSK),
        "завтра после обеда": datetime(2026, 11, 19, 15, 0, tzinfo=MSK),
        "вечером": datetime(2026, 11, 18, 19, 0, tzinfo=MSK),
        "в пятницу": datetime(2026, 11, 20, 11, 0, tzinfo=MSK),
        "завтра в десять": datetime(2026, 11, 19, 10, 0, tzinfo=MSK),  # an hour beats parts
    }
    for text, expected in cases.items():
        assert understand(text, NOW, day_parts=parts).time == expected, text


def test_day_parts_from_config_strings() -> None:
    parts = DayParts.from_mapping({"morning": "8:30", "evening": "19:15"})
    assert parts == DayParts(morning=(8, 30), evening=(19, 15))
    with pytest.raises(ValueError, match=r"speech\.day_parts\.night: unknown"):
        DayParts.from_mapping({"night": "23:00"}, where="speech.day_parts")
    with pytest.raises(ValueError, match=r"day_parts\.morning: '25:00'"):
        DayParts.from_mapping({"morning": "25:00"})


def test_the_answer_is_in_the_zone_of_now() -> None:
    for zone in ("Asia/Kamchatka", "Europe/Kaliningrad", "UTC", "America/New_York"):
        now = datetime(2026, 11, 18, 14, 0, tzinfo=ZoneInfo(zone))
        got = understand("завтра в десять", now).time
        assert got is not None
        assert got.tzinfo == now.tzinfo
        assert (got.year, got.month, got.day, got.hour, got.minute) == (2026, 11, 19, 10, 0)


def test_relative_minutes_are_absolute_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 10, 25, 2, 45, tzinfo=berlin)  # 02:45 CEST, 15 min before the change
    got = understand("через полчаса", now).time
    assert got is not None
    # (got - now) would compare wall clocks within one tzinfo: compare instants instead.
    assert got.timestamp() - now.timestamp() == 1800
    assert got.isoformat() == "2026-10-25T02:15:00+01:00"  # the second 02:15, in CET


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        understand("завтра", datetime(2026, 11, 18, 14, 0))


@pytest.mark.parametrize(
    "text",
    ["", "   ", "[unk]", "хм", "погода хорошая", "двадцать пять", "третий раз звоню"],
)
def test_nothing_to_understand(text: str) -> None:
    got = understand(text, NOW)
    assert got == Understanding(Intent.UNKNOWN, None, 0.0)


def test_confidence() -> None:
    assert understand("да", NOW).confidence == 1.0
    assert understand("да нет", NOW).confidence < 1.0  # both words heard; "no" wins
    assert understand("ммм", NOW).confidence == 0.0


def test_digits_are_read_too() -> None:
    # Vosk writes words, but a DTMF-less test harness or another ASR may write digits.
    assert understand("завтра в 10", NOW).time == datetime(2026, 11, 19, 10, 0, tzinfo=MSK)


def test_grammar_for() -> None:
    yes_no = grammar_for([Intent.YES, Intent.NO], with_time=False)
    assert yes_no[-1] == "[unk]"
    assert {"да", "нет", "да нет", "не надо"} <= set(yes_no)
    assert "оператора" in yes_no and "не звоните больше" in yes_no  # always heard
    assert "завтра" not in yes_no
    with_time = grammar_for([Intent.YES, Intent.NO], with_time=True)
    assert {"завтра", "пятницу", "десять", "половине", "пятого", "через"} <= set(with_time)
    assert len(with_time) == len(set(with_time))
    assert grammar_for([], with_time=False)[-1] == "[unk]"
    # Everything in a grammar is understood as something when said alone.
    for phrase in grammar_for([Intent.YES, Intent.NO, Intent.REPEAT], with_time=False)[:-1]:
        if phrase in ("пожалуйста",):
            continue
        assert understand(phrase, NOW).intent != Intent.UNKNOWN, phrase


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert cli_main(argv) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_cli_one_utterance(capsys: pytest.CaptureFixture[str]) -> None:
    out = _cli(
        ["nlu", "--now", "2026-11-18T14:00", "--tz", "Europe/Moscow", "завтра в десять"], capsys
    )
    assert out == [{"intent": "later", "time": "2026-11-19T10:00:00+03:00"}]


def test_cli_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("да\nнет лучше в пятницу\nне звоните больше\n"))
    out = _cli(["nlu", "--now", "2026-11-30T17:40", "--tz", "Asia/Novosibirsk", "-"], capsys)
    assert out == [
        {"intent": "yes", "time": None},
        {"intent": "no", "time": "2026-12-04T10:00:00+07:00"},
        {"intent": "optout", "time": None},
    ]


def test_cli_now_defaults_to_the_current_time(capsys: pytest.CaptureFixture[str]) -> None:
    before = datetime.now(MSK)
    (out,) = _cli(["nlu", "--tz", "Europe/Moscow", "через час"], capsys)
    assert isinstance(out["time"], str)
    got = datetime.fromisoformat(out["time"])
    assert 3000 <= (got - before).total_seconds() <= 3660


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nlu", "--tz", "Mars/Base", "да"], "--tz"),
        (["nlu", "--now", "вчера", "да"], "--now"),
    ],
)
def test_cli_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(argv) == 1
    assert message in capsys.readouterr().err
