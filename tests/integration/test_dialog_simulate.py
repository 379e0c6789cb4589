"""Scripted simulations: `cuckoo scenario simulate` as a subprocess with the customer's answers
piped into stdin, one test per branch of every shipped scenario; plus `scenario check|list|show`.

Branches answered by keys run everywhere; those answered in words go through the real NLU
(cuckoo.speech.nlu) exactly as a recognized transcript would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "scenarios"
BROKEN = ROOT / "tests" / "data" / "scenarios"
THURSDAY = "2026-11-19T10:00"  # local time in --tz (Europe/Moscow by default)
TUESDAY = "2026-11-17T10:00"


def cuckoo(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def summary(stdout: str) -> dict[str, str]:
    """The `key: value` lines printed after the dialog."""
    out = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("outcome", "callback_at", "dtmf", "transcript", "sms"):
            out[key] = value
    return out


@dataclass
class Case:
    scenario: str
    answers: list[str] | None  # None: no input at all (hang up at the first question)
    outcome: str
    callback_at: str | None = None
    shows: list[str] = field(default_factory=list)  # lines that must be in the output
    args: list[str] = field(default_factory=list)
    now: str = THURSDAY

    @property
    def id(self) -> str:
        return f"{self.scenario}:{'/'.join(self.answers or ['EOF']) or 'EOF'}"


SILENT = "Извините, Вас не слышно."
UNCLEAR = "Извините, я не понял."
CLARIFY = "Скажите, пожалуйста, да или нет — или нажмите 1."
DOC_Q = (
    "робот: Если Вы уже их получили, нажмите 1 или скажите «да». Если ещё нет — нажмите 2. "
    "Чтобы прослушать ещё раз — нажмите 0."
)
BYE_LATER = "робот: Мы перезвоним Вам позже. До свидания."
OPTED_OUT = "робот: Хорошо, мы больше не будем Вам звонить. До свидания."

KEY_CASES = [
    # documents_sent
    Case(
        "documents_sent", ["1"], "confirmed", shows=["клиент: 1", "робот: Спасибо! Всего доброго."]
    ),
    Case("documents_sent", ["2"], "declined"),
    Case("documents_sent", ["0", "1"], "confirmed"),
    Case("documents_sent", ["", "", ""], "delivered", shows=[f"робот: {SILENT}", BYE_LATER]),
    Case("documents_sent", ["5", "5", "5"], "delivered", shows=[f"робот: {UNCLEAR}", BYE_LATER]),
    Case("documents_sent", ["", "1"], "confirmed", shows=["клиент: (молчание)"]),
    Case("documents_sent", ["9"], "opted_out", shows=[OPTED_OUT]),
    Case("documents_sent", None, "delivered", shows=[DOC_Q, "клиент: (положил трубку)"]),
    Case(
        "documents_sent",
        ["да", "1"],
        "confirmed",
        shows=[
            "      (речь сейчас не распознаётся: ответьте кнопкой)",
            "робот: Если Вы уже их получили, нажмите 1. Если ещё нет — нажмите 2. "
            "Чтобы прослушать ещё раз — нажмите 0.",
        ],
        args=["--dtmf-only"],
    ),
    # callback_offer
    Case(
        "callback_offer",
        ["1"],
        "confirmed",
        callback_at="2026-11-20T10:00:00+03:00",
        shows=[
            "робот: Спасибо! Менеджер перезвонит Вам завтра, в пятницу, двадцатого ноября, "
            "в десять часов. До свидания."
        ],
    ),
    Case("callback_offer", ["2", "1"], "callback_requested", "2026-11-20T10:00:00+03:00"),
    Case("callback_offer", ["2", "2"], "callback_requested", "2026-11-20T15:00:00+03:00"),
    Case(
        "callback_offer",
        ["2", "3"],
        "callback_requested",
        "2026-11-21T10:00:00+03:00",
        shows=[
            "робот: Хорошо, перезвоним послезавтра, в субботу, двадцать первого ноября, "
            "в десять часов. До свидания."
        ],
    ),
    Case(
        "callback_offer",
        ["2", "", "", ""],
        "delivered",
        shows=[
            "робот: Когда Вам удобно? Нажмите 1 — завтра утром, 2 — завтра днём, "
            "3 — послезавтра утром.",
        ],
        args=["--dtmf-only"],
    ),
    Case("callback_offer", ["", "", ""], "delivered", shows=[BYE_LATER]),
    Case("callback_offer", ["2", "9"], "opted_out", shows=[OPTED_OUT]),
    Case(
        "callback_offer",
        ["1"],
        "confirmed",
        "2026-11-21T10:00:00+05:00",
        args=["--tz", "Asia/Yekaterinburg"],
        now="2026-11-19T22:30:00+00:00",  # already the 20th in Yekaterinburg
    ),
    # order_ready (goal: delivered → reported as confirmed)
    Case(
        "order_ready",
        [""],
        "confirmed",
        shows=[
            "робот: Мария, здравствуйте! Ваш заказ номер 1024 готов к выдаче. Забрать его можно "
            "по адресу: улица Ленина, дом 5, с девяти часов до двадцати одного часа. Заказ будет "
            "храниться до 27 ноября.",
            "робот: Всего доброго!",
        ],
    ),
    Case(
        "order_ready",
        ["1"],
        "confirmed",
        shows=["sms: Заказ 1024: улица Ленина, дом 5, с 09:00 до 21:00."],
    ),
    Case(
        "order_ready",
        ["2"],
        "operator_requested",
        shows=[
            "робот: Соединяю с оператором.",
            "робот: Сейчас оператор не может ответить. Мы Вам перезвоним.",
        ],
    ),
    Case("order_ready", ["0", ""], "confirmed"),
    Case("order_ready", ["4"], "confirmed", shows=["робот: Всего доброго!"]),
    Case("order_ready", ["9"], "opted_out"),
    Case("order_ready", None, "confirmed"),
    # payment_reminder
    Case(
        "payment_reminder",
        ["1"],
        "confirmed",
        shows=[
            "робот: Иван Петрович, здравствуйте! Это ООО «Ромашка». Напоминаем: по договору 45-Б "
            "нужно внести платёж 1 250 руб. 50 коп. до 25 ноября."
        ],
    ),
    Case("payment_reminder", ["2"], "declined"),
    Case("payment_reminder", ["3"], "operator_requested"),
    Case("payment_reminder", ["0", "1"], "confirmed"),
    Case("payment_reminder", ["9"], "opted_out"),
    Case("payment_reminder", ["", "", ""], "delivered", shows=[BYE_LATER]),
    Case("payment_reminder", ["8", "", "8"], "delivered", shows=[f"робот: {UNCLEAR}"]),
    Case("payment_reminder", None, "delivered"),
]

SPEECH_CASES = [
    Case("documents_sent", ["да"], "confirmed", shows=["клиент: да"]),
    Case("documents_sent", ["Нет, ещё не получил"], "declined"),
    Case("documents_sent", ["повторите пожалуйста", "да"], "confirmed"),
    Case("documents_sent", ["не звоните мне больше"], "opted_out"),
    # words not understood, or only tentatively: one clarifying question, then the answer
    Case("documents_sent", ["какая погода", "да"], "confirmed", shows=[f"робот: {CLARIFY}"]),
    Case(
        "documents_sent",
        ["наверное нет", "да, получил"],
        "confirmed",
        shows=["клиент: наверное нет", f"робот: {CLARIFY}", "клиент: да, получил"],
    ),
    Case(
        "documents_sent",
        ["какая погода", "какая погода", "да"],
        "confirmed",
        shows=[f"робот: {CLARIFY}", f"робот: {UNCLEAR}"],
    ),
    Case("callback_offer", ["да, удобно"], "confirmed", "2026-11-20T10:00:00+03:00"),
    Case(
        "callback_offer",
        ["нет", "в пятницу в одиннадцать", "да"],
        "callback_requested",
        "2026-11-20T11:00:00+03:00",
        shows=[
            "робот: Перезвоним Вам в пятницу, двадцатого ноября, в одиннадцать часов. Верно? "
            "Если да — нажмите 1, если нет — 2.",
            "робот: Хорошо, перезвоним в пятницу, двадцатого ноября, в одиннадцать часов. "
            "До свидания.",
            "робот: Когда Вам удобно? Назовите день и время, например: «в пятницу в одиннадцать». "
            "Или нажмите 1 — завтра утром, 2 — завтра днём, 3 — послезавтра утром.",
        ],
        now=TUESDAY,
    ),
    Case(
        "callback_offer",
        ["лучше в пятницу в одиннадцать", "1"],
        "callback_requested",
        "2026-11-20T11:00:00+03:00",
        now=TUESDAY,
    ),
    Case(
        "callback_offer",
        ["нет", "в пятницу в одиннадцать", "", ""],
        "callback_requested",
        "2026-11-20T11:00:00+03:00",
        now=TUESDAY,
    ),
    Case(
        "callback_offer",
        ["нет", "в пятницу в одиннадцать", "нет", "3"],
        "callback_requested",
        "2026-11-19T10:00:00+03:00",
        now=TUESDAY,
    ),
    Case("order_ready", ["соедините с оператором"], "operator_requested"),
    Case("payment_reminder", ["да"], "confirmed"),
    Case("payment_reminder", ["нет"], "declined"),
    Case("payment_reminder", ["позовите оператора"], "operator_requested"),
    Case(
        "payment_reminder",
        ["вы не туда попали"],
        "wrong_number",
        shows=["робот: Извините за беспокойство. До свидания."],
    ),
]


def run_case(case: Case) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    stdin = "" if case.answers is None else "".join(f"{a}\n" for a in case.answers)
    proc = cuckoo(
        "scenario",
        "simulate",
        case.scenario,
        "--dir",
        str(SHIPPED),
        "--now",
        case.now,
        *case.args,
        stdin=stdin,
    )
    got = summary(proc.stdout)
    # exit status: 0 when the goal was reached (confirmed), 3 for any other ending
    assert proc.returncode == (0 if got.get("outcome") == "confirmed" else 3), proc.stderr
    return proc, got


def check_case(case: Case) -> None:
    proc, got = run_case(case)
    assert got.get("outcome") == case.outcome, proc.stdout
    assert got.get("callback_at") == case.callback_at, proc.stdout
    lines = proc.stdout.splitlines()
    for expected in case.shows:
        assert expected in lines, f"{expected!r} not in:\n{proc.stdout}"
    assert lines[0].startswith("робот: ")


@pytest.mark.parametrize("case", KEY_CASES, ids=lambda c: c.id)
def test_simulate_keys(case: Case) -> None:
    check_case(case)


@pytest.mark.parametrize("case", SPEECH_CASES, ids=lambda c: c.id)
def test_simulate_speech(case: Case) -> None:
    check_case(case)


def test_every_shipped_scenario_is_simulated() -> None:
    names = {p.stem for p in SHIPPED.glob("*.yaml")}
    assert {c.scenario for c in KEY_CASES} == names
    assert {c.scenario for c in SPEECH_CASES} == names


def test_simulate_with_variables(tmp_path: Path) -> None:
    vars_json = tmp_path / "vars.json"
    vars_json.write_text(
        json.dumps({"customer": {"first_name": "Ольга", "patronymic": "Ивановна"}, "amount": 5}),
        encoding="utf-8",
    )
    proc = cuckoo(
        "scenario",
        "simulate",
        "payment_reminder",
        "--dir",
        str(SHIPPED),
        "--vars-json",
        str(vars_json),
        "--var",
        "amount=99.90",
        "--var",
        "due_date=2026-12-01",
        "--var",
        "customer.patronymic=Павловна",
        stdin="1\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "робот: Ольга Павловна, здравствуйте! Это ООО «Ромашка». Напоминаем: по договору 45-Б "
        "нужно внести платёж 99 руб. 90 коп. до 1 декабря."
    )
    assert summary(proc.stdout)["outcome"] == "confirmed"


def test_simulate_errors() -> None:
    proc = cuckoo("scenario", "simulate", "nope", "--dir", str(SHIPPED))
    assert proc.returncode == 1
    assert "no scenario 'nope' (there are: callback_offer, documents_sent" in proc.stderr
    proc = cuckoo("scenario", "simulate", "unknown_state", "--dir", str(BROKEN))
    assert proc.returncode == 1
    assert f"{BROKEN}/unknown_state.yaml:9: unknown state 'nowhere'" in proc.stderr
    assert proc.stdout == ""  # an invalid scenario never runs
    proc = cuckoo("scenario", "simulate", "documents_sent", "--dir", str(SHIPPED), "--var", "x")
    assert proc.returncode == 1
    assert "--var 'x': expected KEY=VALUE" in proc.stderr


def test_check_list_show() -> None:
    ok = cuckoo("scenario", "check", "--dir", str(SHIPPED))
    assert (ok.returncode, ok.stdout) == (0, "4 scenario(s) OK\n")
    bad = cuckoo("scenario", "check", str(BROKEN / "unknown_state.yaml"))
    assert bad.returncode == 1
    assert bad.stdout == f"{BROKEN}/unknown_state.yaml:9: unknown state 'nowhere'\n"
    every = cuckoo("scenario", "check", str(BROKEN))
    assert every.returncode == 1
    assert len(every.stdout.splitlines()) == 24  # as listed in tests/unit/test_dialog_validation
    assert all(line.startswith(f"{BROKEN}/") for line in every.stdout.splitlines())
    assert every.stderr == "24 problem(s)\n"
    listed = cuckoo("scenario", "list", "--dir", str(SHIPPED))
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [  # a pipe: tab-separated, with a header
        "name\tdescription",
        "callback_offer\tДоговориться о времени звонка менеджера",
        "documents_sent\tДокументы отправлены заказным письмом — получил ли их клиент?",
        "order_ready\tЗаказ готов к выдаче в пункте самовывоза",
        "payment_reminder\tНапоминание о платеже по договору",
    ]
    shown = cuckoo("scenario", "show", "order_ready", "--dir", str(SHIPPED))
    assert shown.returncode == 0
    assert "transfer: operator" in shown.stdout
    assert shown.stdout.rstrip().endswith(
        "# Мария, заказ 1024 готов к выдаче: улица Ленина, дом 5, с 09:00 до 21:00. "
        "Хранится до 27 ноября."
    )


def test_simulate_shows_what_the_voice_reads_where_it_differs(tmp_path: Path) -> None:
    args = ["scenario", "simulate", "order_ready", "--now", "2026-11-25T12:00"]
    shown = subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        input="1\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    lines = shown.stdout.splitlines()
    robot = next(i for i, x in enumerate(lines) if "дом 5" in x)
    assert lines[robot].startswith("робот: ")
    voice = lines[robot + 1]
    assert voice.startswith("голос: ") and "дом пять" in voice and "1024" not in voice
    # a line the voice reads as written gets no voice line
    assert "голос: робот" not in shown.stdout
    written = subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args, "--written"],
        input="1\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "голос:" not in written.stdout and "дом 5" in written.stdout
