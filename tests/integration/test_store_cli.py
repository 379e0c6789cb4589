"""The store's CLI commands as a user runs them: real processes, a real database, from a folder
that has no alembic.ini (the Alembic config is built in code)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from cuckoo.store.migrate import head_revision

# The dry run's channels as a channel factory: the same texts, but the attempts are recorded
# (`--channel dry-run` itself changes nothing in the store).
RECORDED_ON_PAPER = "cuckoo.worker.channels:dry_run_channels"

ALWAYS_OPEN = """
[policy.window]
mon = "00:00-24:00"
tue = "00:00-24:00"
wed = "00:00-24:00"
thu = "00:00-24:00"
fri = "00:00-24:00"
sat = "00:00-24:00"
sun = "00:00-24:00"
skip_holidays = false

[policy.sms_window]
mon = "00:00-24:00"
tue = "00:00-24:00"
wed = "00:00-24:00"
thu = "00:00-24:00"
fri = "00:00-24:00"
sat = "00:00-24:00"
sun = "00:00-24:00"
skip_holidays = false
"""


def write_config(folder: Path, db_url: str, extra: str = "") -> Path:
    cfg = folder / "cuckoo.toml"
    cfg.write_text(f'[store]\nurl = "{db_url}"\n\n{extra}\n{ALWAYS_OPEN}', encoding="utf-8")
    return cfg


def cuckoo(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def home(tmp_path: Path, sqlite_url: str) -> Path:
    """A folder with a cuckoo.toml (SQLite) and no alembic.ini; the schema is upgraded.
    (The store queries run on both databases in test_store_matrix; PostgreSQL gets one
    end-to-end CLI test below to keep this suite fast.)"""
    write_config(tmp_path, sqlite_url)
    done = cuckoo(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert f"revision {head_revision()}" in done.stdout
    assert not (tmp_path / "alembic.ini").exists()
    return tmp_path


def test_commands_refuse_an_unmigrated_database_with_the_fix(tmp_path: Path) -> None:
    write_config(tmp_path, f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    done = cuckoo(tmp_path, "status")
    assert done.returncode == 1
    assert "run `cuckoo db upgrade`" in done.stderr


def test_db_upgrade_twice_and_default_sqlite_location(tmp_path: Path) -> None:
    (tmp_path / "cuckoo.toml").write_text('var_dir = "state"\n', encoding="utf-8")
    for _ in range(2):
        done = cuckoo(tmp_path, "db", "upgrade")
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "state" / "cuckoo.sqlite").is_file()


def test_notify_add_status_and_bad_input(home: Path) -> None:
    ok = cuckoo(
        home,
        "notify",
        "add",
        "--phone",
        "8 (912) 345-67-00",
        "--scenario",
        "order_ready",
        "--var",
        "order=A-17",
        "--deadline",
        "2099-12-01T18:00",
        "--id",
        "n1",
    )
    assert ok.returncode == 0, ok.stderr
    assert "+79123456700" in ok.stdout and "Asia/Yekaterinburg" in ok.stdout
    bad_phone = cuckoo(home, "notify", "add", "--phone", "12-34", "--scenario", "order_ready")
    assert bad_phone.returncode == 1
    assert "phone '12-34'" in bad_phone.stderr and "Traceback" not in bad_phone.stderr
    bad_var = cuckoo(
        home, "notify", "add", "--phone", "+79123456701", "--scenario", "x", "--var", "oops"
    )
    assert bad_var.returncode == 1 and "KEY=VALUE" in bad_var.stderr
    again = cuckoo(
        home, "notify", "add", "--phone", "+79123456700", "--scenario", "x", "--id", "n1"
    )
    assert again.returncode == 1 and "exists already" in again.stderr
    status = cuckoo(home, "status")
    assert status.returncode == 0, status.stderr
    assert "pending" in status.stdout and "total" in status.stdout
    assert "due now: " in status.stdout
    assert "SMS asked for in calls: 0 waiting, 0 failed, 0 sent" in status.stdout
    # Only the good one was stored (in a pipe the table is tab-separated lines).
    assert "pending\t1\n" in status.stdout and "total\t1\n" in status.stdout, status.stdout
    assert "invalid" not in status.stdout


def test_unknown_scenario_when_scenarios_are_known(home: Path) -> None:
    (home / "scenarios").mkdir()
    (home / "scenarios" / "order_ready.yaml").write_text("name: order_ready\n", encoding="utf-8")
    done = cuckoo(home, "notify", "add", "--phone", "+79123456700", "--scenario", "nope")
    assert done.returncode == 1
    assert "unknown scenario 'nope' (known: order_ready)" in done.stderr


def test_block_unblock_and_notify_a_blocked_number(home: Path) -> None:
    assert cuckoo(home, "block", "8 912 345 67 00", "--reason", "asked").stdout.strip() == (
        "blocked +79123456700"
    )
    blocked = cuckoo(home, "notify", "add", "--phone", "+79123456700", "--scenario", "x")
    assert blocked.returncode == 1 and "do-not-call" in blocked.stderr
    assert "notify add: --phone: +79123456700 is on the do-not-call list" in blocked.stderr
    # refused by hand: nothing stored, nothing waits in the outbox
    status = cuckoo(home, "status")
    assert "total\t0\n" in status.stdout, status.stdout
    assert "results waiting for the ERP: 0; blocked numbers: 1" in status.stdout
    assert cuckoo(home, "unblock", "+7 912 345-67-00").stdout.strip() == ("unblocked +79123456700")
    assert "was not blocked" in cuckoo(home, "unblock", "+79123456700").stdout
    bad = cuckoo(home, "block", "123")
    assert bad.returncode == 1 and "phone" in bad.stderr


def test_run_once_with_a_channel_factory_and_report(home: Path) -> None:
    for i, ch in enumerate(["call", "sms"]):
        done = cuckoo(
            home,
            "notify",
            "add",
            "--phone",
            f"+7912345670{i}",
            "--scenario",
            "order_ready",
            "--channel",
            ch,
            "--var",
            f"order=A-{i}",
        )
        assert done.returncode == 0, done.stderr
    dry = cuckoo(home, "run", "--once", "--channel", "dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "2 attempts shown; nothing was changed" in dry.stdout
    assert "would call +79123456700" in dry.stderr and '"order": "A-0"' in dry.stderr
    assert "would text +79123456701" in dry.stderr
    # A channel factory that answers like the dry run's channels, but for real: attempts are
    # recorded, so the report below has them.
    (home / "paper.py").write_text(
        "from cuckoo.domain import ChannelKind\n"
        "from cuckoo.worker.dry_run import DryRunChannel\n"
        "def make(config):\n"
        "    return {k: DryRunChannel(k) for k in (ChannelKind.CALL, ChannelKind.SMS)}\n",
        encoding="utf-8",
    )
    run = cuckoo(home, "run", "--once", "--channel", "paper.py:make")
    assert run.returncode == 0, run.stderr
    assert "dispatched 2" in run.stdout
    report = cuckoo(home, "report", "--format", "csv", "--since", "1h")
    assert report.returncode == 0, report.stderr
    rows = list(csv.DictReader(io.StringIO(report.stdout)))
    assert sorted((r["phone"], r["channel"], r["outcome"]) for r in rows) == [
        ("+79123456700", "call", "delivered"),
        ("+79123456701", "sms", "sent"),
    ]
    table = cuckoo(home, "report")  # a pipe: tab-separated, the title on stderr
    assert table.returncode == 0 and "attempts (2)" in table.stderr
    assert table.stdout.splitlines()[0] == "id\tlocal time\tphone\tscenario\toutcome"
    future = cuckoo(home, "report", "--format", "csv", "--since", "2099-01-01")
    assert future.stdout.strip().count("\n") == 0  # header only


def test_run_with_a_bad_channel_option_says_what_is_wrong(home: Path) -> None:
    bad = cuckoo(home, "run", "--once", "--channel", "nosuchmodule:make")
    assert bad.returncode == 1 and "cannot import nosuchmodule" in bad.stderr
    spec = cuckoo(home, "run", "--once", "--channel", "telephone")
    assert spec.returncode == 1 and "expected dry-run or MODULE:FACTORY" in spec.stderr
    (home / "chan.py").write_text("def make(config):\n    return 42\n", encoding="utf-8")
    wrong = cuckoo(home, "run", "--once", "--channel", "chan.py:make")
    assert wrong.returncode == 1 and "returned 42, not a Channel" in wrong.stderr


@pytest.mark.postgres
def test_cli_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    write_config(tmp_path, pg_url)
    assert cuckoo(tmp_path, "db", "upgrade").returncode == 0
    add = cuckoo(tmp_path, "notify", "add", "--phone", "+79123456700", "--scenario", "s")
    assert add.returncode == 0, add.stderr
    run = cuckoo(tmp_path, "run", "--once", "--channel", RECORDED_ON_PAPER)
    assert run.returncode == 0 and "dispatched 1" in run.stdout, run.stderr
    rows = list(csv.DictReader(io.StringIO(cuckoo(tmp_path, "report", "--format", "csv").stdout)))
    assert [(r["phone"], r["outcome"]) for r in rows] == [("+79123456700", "delivered")]
