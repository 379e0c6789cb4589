"""A SQLite store that cannot be used is one clear line naming the file and what is wrong on
disk — a read-only file system (a real tmpfs remounted read-only), not a database — for every
command that opens it, with exit status 1; never a driver's traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ALWAYS = "\n".join(
    f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)


def cuckoo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "-c", "cuckoo.toml", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def read_only_store(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "m"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        (tmp_path / "cuckoo.toml").write_text(
            f'[store]\nurl = "sqlite:///{mount}/cuckoo.sqlite"\n', encoding="utf-8"
        )
        assert cuckoo(tmp_path, "db", "upgrade").returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("command", [["status"], ["report"], ["run", "--once"], ["db", "upgrade"]])
def test_a_read_only_store_is_one_clear_line(
    tmp_path: Path, read_only_store: Path, command: list[str]
) -> None:
    got = cuckoo(tmp_path, *command)
    assert got.returncode == 1
    lines = got.stderr.strip().splitlines()
    assert lines[-1] == (
        f"cuckoo: store sqlite:///{read_only_store}/cuckoo.sqlite: unable to open database file "
        f"({read_only_store} is on a read-only file system; the store must be writable)"
    )
    assert "Traceback" not in got.stderr


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "cuckoo.sqlite"
    db.write_text("these are the accounts for 2026, not a database\n", encoding="utf-8")
    (tmp_path / "cuckoo.toml").write_text(f'[store]\nurl = "sqlite:///{db}"\n', "utf-8")
    for command in (["status"], ["db", "upgrade"]):
        got = cuckoo(tmp_path, *command)
        assert got.returncode == 1
        assert got.stderr.strip().splitlines()[-1] == (
            f"cuckoo: store sqlite:///{db}: file is not a database ({db} is not a SQLite database)"
        )
    assert db.read_text(encoding="utf-8").startswith("these are the accounts")  # untouched


def test_a_full_disk_backs_off_and_recovers(tmp_path: Path, record_property: Any) -> None:
    """SQLite's disk fills up (a real 2 MB tmpfs, filled by another file) while `cuckoo run`
    works: the worker says so once and backs off — no flood of tracebacks — and when space
    comes back every notification is delivered once (issue 13, item 9 and the fault suite)."""
    mount = tmp_path / "m"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    log = tmp_path / "run.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        (tmp_path / "cuckoo.toml").write_text(
            f'var_dir = "{tmp_path / "var"}"\n'
            f'[store]\nurl = "sqlite:///{mount}/cuckoo.sqlite"\nbusy_timeout_ms = 200\n'
            "[scheduler]\ndispatch_interval_s = 0.2\npoll_interval_s = 60\n"
            f"[policy]\nmax_calls_per_phone_per_day = 0\n[policy.window]\n{ALWAYS}\n",
            encoding="utf-8",
        )
        assert cuckoo(tmp_path, "db", "upgrade").returncode == 0
        # Due once the disk is full: the worker has to write to take them.
        due = (datetime.now(UTC) + timedelta(seconds=12)).isoformat()
        for i in range(3):
            added = cuckoo(tmp_path, "notify", "add", "--phone", f"+7912345678{i}",
                           "--scenario", "order_ready", "--var", f"order=A-{i}",
                           "--not-before", due)  # fmt: skip
            assert added.returncode == 0, added.stderr
        proc = subprocess.Popen(
            [sys.executable, "-m", "cuckoo.cli.main", "-c", "cuckoo.toml", "run",
             "--channel", "cuckoo.worker.channels:dry_run_channels"],
            cwd=tmp_path, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(4.0)  # up and running
        before_full = len(log.read_text(errors="replace").splitlines())
        filler = mount / "filler"
        with filler.open("wb") as f:  # the disk is full from here
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        time.sleep(20.0)  # the notifications fall due meanwhile
        full_lines = log.read_text(errors="replace").splitlines()[before_full:]
        filler.unlink()  # space again
        freed = time.monotonic()
        deadline = time.monotonic() + 60
        while True:
            # Each taken once, its message "heard" on paper (delivered: retried in 4 h).
            count = log.read_text(errors="replace").count("attempt 1: delivered")
            if count == 3:
                break
            assert time.monotonic() < deadline, count
            time.sleep(0.5)
        recovered = time.monotonic() - freed
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        subprocess.run(["umount", str(mount)], check=False)
    tracebacks = sum("Traceback" in line for line in full_lines)
    per_minute = len(full_lines) * 60 / 20.0
    record_property("scenario", "SQLite disk full (tmpfs) while running")
    record_property("results_lost", 0)
    record_property("duplicated_calls", 0)
    record_property("called_in_vain", 0)
    record_property("recovery_s", round(recovered, 2))
    said = f"{len(full_lines)} log lines in 20 s (~{per_minute:.0f}/min), {tracebacks} tracebacks"
    print(f"\n[disk full] {said}; recovered {recovered:.2f} s after space came back")
    assert tracebacks == 0, "\n".join(full_lines[-20:])
    assert len(full_lines) <= 12, "\n".join(full_lines)


LOCK_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""


def test_saying_what_is_wrong_keeps_our_locks(tmp_path: Path) -> None:
    """Naming a locked store's problem must not open the database file: closing any of its
    descriptors drops this process's POSIX locks, and then another process closing its
    connection takes ours for gone and deletes the WAL under them — later writes go to a
    deleted file and nobody else ever sees them."""
    from cuckoo.domain import IncomingNotification
    from cuckoo.errors import StoreUnavailable
    from cuckoo.store import Store

    db = tmp_path / "cuckoo.sqlite"
    now = datetime(2026, 12, 4, 9, tzinfo=UTC)

    def item(ext: str) -> IncomingNotification:
        return IncomingNotification(
            source="erp", external_id=ext, phone="+79123456789", scenario="order_ready"
        )

    store = Store(f"sqlite:///{db}", busy_timeout_ms=300)
    try:
        store.upgrade()
        store.ingest([item("1")], now)
        holder = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreUnavailable, match="database is locked"):
            store.counts_by_status()
        holder.communicate("\n", timeout=10)
        assert (tmp_path / "cuckoo.sqlite-wal").exists()  # nobody took our connection for gone
        store.ingest([item("2")], now)
        seen = subprocess.run(
            [sys.executable, "-c",
             "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
             "'select count(*) from notifications').fetchone()[0])", str(db)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert seen.stdout.strip() == "2", seen.stderr
    finally:
        store.close()
