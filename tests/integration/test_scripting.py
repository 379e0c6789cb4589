"""The command line as a script and a person at an 80-column terminal use it: real `cuckoo`
processes (in a pipe, and on a pseudo-terminal for the rich tables), a real SQLite store, the
shipped scenarios and voices."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cuckoo.config import load
from cuckoo.domain import IncomingNotification
from cuckoo.worker.store import open_store

# The dry run's channels as a channel factory: the same texts, but the attempts are recorded
# (`--channel dry-run` itself changes nothing in the store).
RECORDED_ON_PAPER = "cuckoo.worker.channels:dry_run_channels"

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

ALWAYS_OPEN = "\n".join(
    [
        "[policy.window]",
        *(f'{d} = "00:00-24:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
        "skip_holidays = false",
        "[policy.sms_window]",
        *(f'{d} = "00:00-24:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
        "skip_holidays = false",
    ]
)

ORDER = {
    "customer": {"first_name": "Пётр"},
    "order_no": "17",
    "pickup": {"address": "улица Ленина, дом 5", "opens": "09:00", "closes": "21:00"},
    "keep_until": "2026-12-20",
}


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("CUCKOO_CONFIG", "COLUMNS")}
    return {**base, **extra}


def cuckoo(cwd: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=env(**extra_env),
    )


def on_terminal(cwd: Path, *args: str, columns: int = 80) -> tuple[int, list[str]]:
    """Run `cuckoo ARGS` with stdout on a pseudo-terminal `columns` wide (COLUMNS too, as a
    shell exports it); the lines it showed, escape codes removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env(COLUMNS=str(columns), TERM="xterm-256color"),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.stderr is not None
    proc.stderr.read()
    code = proc.wait(timeout=120)
    text = ANSI.sub("", b"".join(chunks).decode("utf-8"))
    return code, text.replace("\r\n", "\n").splitlines()


def make_home(tmp_path: Path) -> Path:
    """cuckoo.toml on SQLite with the calling windows always open, the shipped scenarios and
    voices, the schema upgraded."""
    shutil.copytree(REPO / "scenarios", tmp_path / "scenarios")
    shutil.copytree(REPO / "voices", tmp_path / "voices")
    (tmp_path / "cuckoo.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "cuckoo.sqlite"}"\n\n{ALWAYS_OPEN}\n',
        encoding="utf-8",
    )
    assert cuckoo(tmp_path, "db", "upgrade").returncode == 0
    return tmp_path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home of this test's own (for the tests that change it)."""
    return make_home(tmp_path)


def add(home: Path, phone: str, *more: str) -> subprocess.CompletedProcess[str]:
    (home / "order.json").write_text(json.dumps(ORDER, ensure_ascii=False), encoding="utf-8")
    return cuckoo(
        home,
        "notify",
        "add",
        "--phone",
        phone,
        "--scenario",
        "order_ready",
        "--vars-json",
        str(home / "order.json"),
        *more,
    )


@pytest.fixture(scope="module")
def attempts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three notifications in three zones, each tried once by the dry-run channel; shared by
    the tests that only read (a `cuckoo` process takes a second or two to start)."""
    home = make_home(tmp_path_factory.mktemp("attempts"))
    for phone, more in [
        ("8 (912) 345-67-00", ()),  # Orenburg mobile: Asia/Yekaterinburg
        ("+7 495 123-45-67", ("--channel", "sms")),  # Moscow
        ("+7 3012 12-34-56", ("--tenant", "north")),  # Ulan-Ude: Asia/Irkutsk
    ]:
        done = add(home, phone, *more)
        assert done.returncode == 0, done.stderr
    run = cuckoo(home, "run", "--once", "--channel", RECORDED_ON_PAPER)
    assert run.returncode == 0 and "dispatched 3" in run.stdout, run.stderr
    return home


# ---- report ----------------------------------------------------------------------------------


def test_report_at_80_columns_on_a_terminal(attempts: Path) -> None:
    code, lines = on_terminal(attempts, "report")
    assert code == 0
    assert all(len(ln) <= 80 for ln in lines), "\n".join(lines)
    header = next(ln for ln in lines if ln.startswith("id"))
    assert header.split() == ["id", "local", "time", "phone", "scenario", "outcome"]
    rows = [ln.split() for ln in lines if ln.strip()[:1].isdigit()]
    assert len(rows) == 3
    by_phone = {r[3]: r for r in rows}  # id, date, time, phone, scenario, outcome: nothing folded
    assert set(by_phone) == {"+79123456700", "+74951234567", "+73012123456"}
    assert by_phone["+74951234567"][4:] == ["order_ready", "sent"]
    # local time: Yekaterinburg is UTC+5, Moscow +3, Irkutsk +8
    report = json.loads(cuckoo(attempts, "report", "--json").stdout)
    for a in report["attempts"]:
        local = datetime.fromisoformat(a["started_at_local"])
        assert by_phone[a["phone"]][1:3] == local.strftime("%Y-%m-%d %H:%M").split()
    offsets = {a["phone"]: a["started_at_local"][-6:] for a in report["attempts"]}
    assert offsets == {"+79123456700": "+05:00", "+74951234567": "+03:00", "+73012123456": "+08:00"}


def test_report_wide_is_wider_than_the_terminal_not_squeezed(attempts: Path) -> None:
    code, lines = on_terminal(attempts, "report", "--wide")
    assert code == 0
    header = next(ln for ln in lines if ln.startswith("id"))
    for title in ("zone", "via", "status", "SIP", "DTMF", "ext. id", "tenant", "detail"):
        assert title in header
    assert any("Asia/Irkutsk" in ln and "dry run: would call" in ln for ln in lines)


def test_report_in_a_pipe_is_tab_separated(attempts: Path) -> None:
    done = cuckoo(attempts, "report", COLUMNS="80")
    assert done.returncode == 0
    assert "\x1b" not in done.stdout and not set("│─┃━") & set(done.stdout)
    lines = done.stdout.splitlines()
    assert lines[0].split("\t") == ["id", "local time", "phone", "scenario", "outcome"]
    assert [len(ln.split("\t")) for ln in lines] == [5] * 4
    assert "attempts (3)" in done.stderr
    utc = cuckoo(attempts, "report", "--utc", "--wide").stdout.splitlines()
    assert utc[0].split("\t")[1] == "time (UTC)" and len(utc[0].split("\t")) == 16


def test_report_filters(attempts: Path) -> None:
    def phones(*args: str) -> list[str]:
        done = cuckoo(attempts, "report", "--json", *args)
        assert done.returncode == 0, done.stderr
        return sorted(a["phone"] for a in json.loads(done.stdout)["attempts"])

    assert phones("--phone", "8 912 345-67-00") == ["+79123456700"]  # spelt another way
    assert phones("--tenant", "north") == ["+73012123456"]
    assert phones("--status", "delivered") == ["+74951234567"]  # the SMS; calls wait to retry
    assert phones("--outcome", "delivered") == ["+73012123456", "+79123456700"]
    assert phones("--since", "1h") == ["+73012123456", "+74951234567", "+79123456700"]
    assert phones("--since", "2099-01-01") == []
    assert phones("--tenant", "north", "--outcome", "sent") == []


def test_report_refuses_a_bad_filter(attempts: Path) -> None:
    for args, message in [
        (["--status", "done"], "--status 'done': not a status; one of pending, active,"),
        (["--outcome", "ok"], "--outcome 'ok': not an outcome; one of confirmed,"),
        (["--since", "вчера"], "give an ISO time (2026-12-01, 2026-12-01T18:00,"),
        (["--phone", "12-34"], "--phone: phone '12-34'"),
    ]:
        done = cuckoo(attempts, "report", *args)
        assert done.returncode == 1 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""


# ---- --json everywhere -----------------------------------------------------------------------


def test_status_json_and_plain(attempts: Path) -> None:
    doc = json.loads(cuckoo(attempts, "status", "--json").stdout)
    assert doc["notifications"]["pending"] == 2 and doc["notifications"]["delivered"] == 1
    assert doc["total"] == 3 and doc["blocked_numbers"] == 0
    assert datetime.fromisoformat(doc["next_attempt_at"]).utcoffset() is not None
    plain = cuckoo(attempts, "status").stdout.splitlines()
    assert plain[:4] == ["status\tcount", "pending\t2", "delivered\t1", "total\t3"]
    code, lines = on_terminal(attempts, "status")
    assert code == 0 and any(re.fullmatch(r"pending\s+2", ln.strip()) for ln in lines)


def test_the_listings_in_json(attempts: Path) -> None:
    home = attempts
    check = cuckoo(home, "check", "--json")
    doc = json.loads(check.stdout)
    assert check.returncode == 0 and doc["ok"] is True and doc["problems"] == []
    assert any(n.startswith("scenarios: 4 file(s)") for n in doc["notes"])

    scenarios = json.loads(cuckoo(home, "scenario", "list", "--json").stdout)
    names = {s["name"]: s for s in scenarios["scenarios"]}
    assert set(names) == {"callback_offer", "documents_sent", "order_ready", "payment_reminder"}
    assert names["order_ready"]["description"] == "Заказ готов к выдаче в пункте самовывоза"
    assert names["order_ready"]["valid"] is True

    voices = json.loads(cuckoo(home, "voices", "list", "--json").stdout)
    espeak = next(v for v in voices["voices"] if v["name"] == "espeak-ru")
    assert espeak["engine"] == "espeak" and espeak["ready"] is True
    assert sum(v["default"] for v in voices["voices"]) == 1

    models = json.loads(cuckoo(home, "models", "list", "--json").stdout)
    assert {m["name"] for m in models["available"]} >= {"vosk-small-ru", "silero-v5-cis"}
    assert models["models_dir"] == str(home / "var" / "models")


def test_a_broken_scenario_in_json(home: Path) -> None:
    (home / "scenarios" / "broken.yaml").write_text("name: broken\nstates: 5\n", encoding="utf-8")
    check = cuckoo(home, "scenario", "check", "--json")
    doc = json.loads(check.stdout)
    assert check.returncode == 1 and doc["ok"] is False and doc["checked"] == 5
    assert doc["problems"][0]["file"].endswith("broken.yaml") and doc["problems"][0]["line"] >= 1
    listed = json.loads(cuckoo(home, "scenario", "--json").stdout)["scenarios"]
    assert [s["valid"] for s in listed if s["name"] == "broken"] == [False]
    whole = cuckoo(home, "check", "--json")
    assert whole.returncode == 1 and json.loads(whole.stdout)["ok"] is False


def test_json_is_utf8_under_an_ascii_locale(attempts: Path) -> None:
    home = attempts
    done = subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "scenario", "list", "--json"],
        cwd=home,
        capture_output=True,
        timeout=120,
        env=env(LC_ALL="C", LANG="C", PYTHONIOENCODING="ascii", PYTHONUTF8="0"),
    )
    assert done.returncode == 0, done.stderr
    assert "Заказ готов к выдаче".encode() in done.stdout
    assert done.stdout.count(b"\n") == 1  # one document, one line


# ---- command groups --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "shows"), [("voices", "espeak-ru"), ("models", "vosk-small-ru"), ("scenario", "")]
)
def test_a_group_with_a_listing_lists_without_its_action(
    attempts: Path, group: str, shows: str
) -> None:
    done = cuckoo(attempts, group)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(("default\tname\t", "name\t")) and shows in done.stdout
    assert json.loads(cuckoo(attempts, group, "--json").stdout) == json.loads(
        cuckoo(attempts, group, "list", "--json").stdout
    )


@pytest.mark.parametrize("group", ["db", "notify", "sms"])
def test_a_group_without_a_listing_prints_its_help_and_exits_2(tmp_path: Path, group: str) -> None:
    done = cuckoo(tmp_path, group)
    assert done.returncode == 2
    assert done.stdout.startswith(f"usage: cuckoo {group}")


def test_help_lists_the_exit_codes(tmp_path: Path) -> None:
    done = cuckoo(tmp_path, "--help")
    assert done.returncode == 0
    assert "exit status:" in done.stdout and "130  interrupted" in done.stdout
    bad = cuckoo(tmp_path, "report", "--no-such-option")
    assert bad.returncode == 2  # as the help says: usage


# ---- notify add: the manual path refuses, the ERP path stores and reports -------------------


def test_notify_add_refuses_without_storing(home: Path) -> None:
    missing = cuckoo(
        home,
        "notify",
        "add",
        "--phone",
        "+79123456700",
        "--scenario",
        "order_ready",
        "--var",
        "order_no=5",
    )
    assert missing.returncode == 1
    assert "notify add: --var: scenario 'order_ready'" in missing.stderr
    assert "variable 'customer' is missing" in missing.stderr
    assert "nothing stored" in missing.stderr and "Traceback" not in missing.stderr
    bad_phone = add(home, "12-34")
    assert bad_phone.returncode == 1
    assert "notify add: --phone: phone '12-34'" in bad_phone.stderr
    unknown = cuckoo(home, "notify", "add", "--phone", "+79123456700", "--scenario", "nope")
    assert unknown.returncode == 1 and "notify add: --scenario: unknown scenario 'nope'" in (
        unknown.stderr
    )
    zone = add(home, "+79123456700", "--timezone", "MSK")
    assert zone.returncode == 1 and "notify add: --timezone: time zone 'MSK'" in zone.stderr
    late = add(home, "+79123456700", "--deadline", "2020-01-01T00:00")
    assert late.returncode == 1 and "notify add: --deadline: first opening" in late.stderr
    assert cuckoo(home, "block", "+79123456701").returncode == 0
    blocked = add(home, "8 912 345 67 01")
    assert blocked.returncode == 1 and "--phone: +79123456701 is on the do-not-call" in (
        blocked.stderr
    )

    store = open_store(load(str(home / "cuckoo.toml")))
    try:
        assert store.counts_by_status() == {}  # nothing of the six refusals
        assert store.outbox_pending() == 0
    finally:
        store.close()
    status = json.loads(cuckoo(home, "status", "--json").stdout)
    assert status["total"] == 0 and status["notifications"]["invalid"] == 0


def test_the_erp_path_still_stores_a_rejected_row_for_its_report(home: Path) -> None:
    store = open_store(load(str(home / "cuckoo.toml")))
    now = datetime.now(UTC)
    row = IncomingNotification(
        source="shop",
        external_id="D-1",
        phone="+79123456700",
        scenario="order_ready",
        variables={"order_no": "5"},  # the same missing variables as above
    )
    try:
        report = store.ingest([row], now)
        assert report.invalid == 1 and "variable 'customer' is missing" in report.errors[0]
        assert report.rejected[0].field == "variables"
        stored = store.get("shop", "D-1")
        assert stored is not None and stored.status == "invalid"
        assert "variable 'customer' is missing" in stored.detail
        assert store.outbox_pending_by_source() == {"shop": 1}  # the ERP will hear why
        # the same row typed by hand: refused, nothing more stored
        manual = replace(row, source="manual")
        refused = store.ingest([manual], now, keep_rejected=False)
        assert refused.invalid == 1 and refused.rejected[0].field == "variables"
        assert store.get("manual", "D-1") is None
        assert store.counts_by_status() == {"invalid": 1}
        assert store.outbox_pending() == 1
    finally:
        store.close()
