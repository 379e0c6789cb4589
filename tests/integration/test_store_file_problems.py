"""A SQLite store that cannot be used is one clear line naming the file and what is wrong on
disk — a read-only file system (a real tmpfs remounted read-only), not a database — for every
command that opens it, with exit status 1; never a driver's traceback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


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
