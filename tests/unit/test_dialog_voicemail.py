"""The dialog runner when an answering machine answers (a MACHINE reply from the Line): the
outcome is VOICEMAIL, the message is left only with `voicemail: leave_message`, after the beep;
the loader checks there is a message to leave."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cuckoo.dialog import DialogResult, run_dialog
from cuckoo.dialog.loader import check_text, load_scenario
from cuckoo.dialog.text_line import TextLine
from cuckoo.domain import Outcome
from cuckoo.line import Reply

SHIPPED = Path(__file__).resolve().parents[2] / "scenarios"


class Machine(TextLine):
    """A voicemail: its greeting is detected while the robot says its `at`-th text."""

    def __init__(self, at: int = 1, *, beep: bool | None = True) -> None:
        super().__init__(io.StringIO(""), io.StringIO(), echo=True)
        self.at = at
        self.says: list[str] = []
        self.beep = beep
        self.waited = False
        self.hung_up = False

    def say(self, text: str, *, barge_in: bool = True) -> Reply | None:
        self.says.append(text)
        if len(self.says) == self.at:
            return Reply.machine("a beep (1000 Hz)")
        return None

    def wait_for_beep(self) -> bool:
        self.waited = True
        return bool(self.beep)

    def hangup(self) -> None:
        self.hung_up = True
        super().hangup()


def run(line: TextLine, voicemail: str | None = None, name: str = "documents_sent") -> DialogResult:
    sc = load_scenario(SHIPPED / f"{name}.yaml")
    if voicemail is not None:
        sc = sc.model_copy(update={"voicemail": voicemail})
    return run_dialog(
        sc,
        line,
        sc.variables,
        now=lambda: datetime.now(UTC),
        tz="Europe/Moscow",
        speech_available=False,
    )


def test_hangup_by_default() -> None:
    line = Machine()
    r = run(line)
    assert r.outcome == Outcome.VOICEMAIL and not r.heard
    assert line.hung_up and not line.waited
    assert len(line.says) == 1  # nothing more said to the machine
    assert r.detail == "answering machine: a beep (1000 Hz)"


@pytest.mark.parametrize("at", [1, 2])  # during the message, or during the question
def test_leave_message_after_the_beep(at: int) -> None:
    line = Machine(at)
    r = run(line, "leave_message")
    assert r.outcome == Outcome.VOICEMAIL and not r.heard  # the customer did not hear it yet
    assert line.waited and line.hung_up
    assert line.says[-1].startswith("Пётр Николаевич, здравствуйте! Это ООО «Ромашка».")
    assert len(line.says) == at + 1  # the message once, then nothing
    assert r.detail.endswith("; message left")


def test_no_beep_no_message() -> None:
    line = Machine(beep=False)
    r = run(line, "leave_message")
    assert r.outcome == Outcome.VOICEMAIL and len(line.says) == 1
    assert "no beep" in r.detail


def test_a_person_is_not_affected() -> None:
    line = TextLine(io.StringIO("1\n"), io.StringIO(), echo=True)
    assert run(line, "leave_message").outcome == Outcome.CONFIRMED


SCENARIO = """
name: vm
goal: delivered
voicemail: {vm}
start: first
states:
  first: {{sms: "Текст", next: bye}}
  bye: {{hangup: true, say: "До свидания"}}
"""


def test_loader_checks_voicemail() -> None:
    _, problems = check_text(SCENARIO.format(vm="leave_message"), "vm.yaml")
    assert [str(p) for p in problems] == [
        "vm.yaml:4: 'voicemail: leave_message' needs a message to leave: mark a `say` or "
        "`ask` state `message: true` (or start with one)"
    ]
    _, problems = check_text(SCENARIO.format(vm="hangup"), "vm.yaml")
    assert problems == []
    _, problems = check_text(SCENARIO.format(vm="shout"), "vm.yaml")
    assert len(problems) == 1 and "voicemail" in str(problems[0]) and problems[0].line == 4


@pytest.mark.parametrize("typed", ["!machine", "!автоответчик"])
def test_simulate_can_play_an_answering_machine(typed: str) -> None:
    # `cuckoo scenario simulate`: the admin types !machine to try the scenario's voicemail setting
    out = io.StringIO()
    line = TextLine(io.StringIO(f"{typed}\n"), out, echo=True)
    result = run(line, voicemail="leave_message")
    assert result.outcome == Outcome.VOICEMAIL and not result.heard
    assert result.detail == f"answering machine: typed {typed}; message left"
    said = out.getvalue().splitlines()
    assert said[-1] == "робот: (кладёт трубку)"
    assert said[-2].startswith("робот: Пётр Николаевич")  # the message, said once more
