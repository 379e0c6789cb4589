"""Every shipped scenario takes a time, a "not now" and a wrong number at its first question,
through `cuckoo scenario simulate` (the words go through the real NLU)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cuckoo.cli.main import main as cli_main

SHIPPED = Path(__file__).resolve().parents[2] / "scenarios"
SCENARIOS = sorted(p.stem for p in SHIPPED.glob("*.yaml"))
WEDNESDAY = "2026-11-18T14:00"  # local time in Europe/Moscow


def simulate(
    name: str, answers: list[str], capsys: pytest.CaptureFixture[str], mp: pytest.MonkeyPatch
) -> tuple[dict[str, str], str]:
    mp.setattr("sys.stdin", io.StringIO("".join(f"{a}\n" for a in answers)))
    argv = ["scenario", "simulate", name, "--dir", str(SHIPPED), "--now", WEDNESDAY]
    code = cli_main([*argv, "--tz", "Europe/Moscow"])
    out = capsys.readouterr().out
    summary = {}
    for line in out.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("outcome", "callback_at"):
            summary[key] = value
    assert code == (0 if summary.get("outcome") == "confirmed" else 3)  # the goal, or not
    return summary, out


def test_the_shipped_scenarios_are_all_here() -> None:
    assert {"documents_sent", "payment_reminder", "order_ready", "callback_offer"} <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_named_time_is_a_callback(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # callback_offer reads the time back first; «да» confirms it.
    summary, out = simulate(name, ["перезвоните завтра в десять", "да"], capsys, monkeypatch)
    assert summary == {
        "outcome": "callback_requested",
        "callback_at": "2026-11-19T10:00:00+03:00",
    }
    assert "я не понял" not in out


@pytest.mark.parametrize("name", SCENARIOS)
def test_not_now_asks_when_and_calls_back(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, out = simulate(name, ["я за рулём", "через час", "да"], capsys, monkeypatch)
    assert summary == {
        "outcome": "callback_requested",
        "callback_at": "2026-11-18T15:00:00+03:00",
    }
    assert "я не понял" not in out


@pytest.mark.parametrize("name", SCENARIOS)
def test_not_now_twice_is_still_a_callback(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, _ = simulate(name, ["щас не могу", "потом"], capsys, monkeypatch)
    assert summary == {
        "outcome": "callback_requested",
        "callback_at": "2026-11-19T10:00:00+03:00",
    }


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_wrong_number_gets_an_apology(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, out = simulate(name, ["вы ошиблись номером"], capsys, monkeypatch)
    assert summary == {"outcome": "wrong_number"}
    assert "Извините за беспокойство" in out
