"""A command run where there is no store must fail without leaving anything behind: no
./var/cuckoo.sqlite from a `cuckoo status` in the wrong folder. Only `cuckoo db upgrade` (and
the demo, which migrates its own) creates a database. Real processes in empty folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cuckoo.config import Config
from cuckoo.errors import ConfigError
from cuckoo.store import Store
from cuckoo.worker.store import open_store

# The dry run's channels as a channel factory: the same texts, but the attempts are recorded
# (`--channel dry-run` itself changes nothing in the store).
RECORDED_ON_PAPER = "cuckoo.worker.channels:dry_run_channels"


def cuckoo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CUCKOO_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["report", "--format", "csv"],
        ["block", "+79123456789"],
        ["unblock", "+79123456789"],
        ["notify", "add", "--phone", "+79123456789", "--scenario", "x"],
        ["run", "--once", "--channel", RECORDED_ON_PAPER],
        ["check"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_no_config_no_store_nothing_created(tmp_path: Path, command: list[str]) -> None:
    done = cuckoo(tmp_path, *command)
    assert done.returncode == 1, done.stdout + done.stderr
    assert files_under(tmp_path) == []
    if command != ["check"]:  # check fails earlier: no scenarios folder
        assert "no database at" in done.stderr and "cuckoo db upgrade" in done.stderr


def test_config_whose_var_dir_is_missing(tmp_path: Path) -> None:
    (tmp_path / "cuckoo.toml").write_text('var_dir = "state/deep"\n', encoding="utf-8")
    done = cuckoo(tmp_path, "status")
    assert done.returncode == 1
    assert f"no database at {tmp_path / 'state/deep/cuckoo.sqlite'}" in done.stderr
    assert files_under(tmp_path) == ["cuckoo.toml"]

    up = cuckoo(tmp_path, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert (tmp_path / "state/deep/cuckoo.sqlite").is_file()
    assert cuckoo(tmp_path, "status").returncode == 0


def test_store_opened_without_create(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'cuckoo.sqlite'}"
    with pytest.raises(ConfigError, match="no database at"):
        Store(url, create=False)
    with pytest.raises(ConfigError, match="no database at"):
        open_store(Config(base_dir=tmp_path))  # the commands' way in: checks the schema
    assert files_under(tmp_path) == []

    store = Store(url)  # the default creates, as `db upgrade` and the tests need
    store.upgrade()
    store.close()
    reopened = Store(url, create=False)
    reopened.require_schema()
    reopened.close()
