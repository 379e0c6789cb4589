"""`cuckoo init DIR` as an admin runs it: a real process writes the sample configuration, the
written cuckoo.toml loads and puts the data in the state folder, nothing is overwritten unless
asked, and the store it names is created by `db upgrade` only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cuckoo.cli.init_cmd import SYSTEM_STATE_DIR, config_text, default_state_dir
from cuckoo.config import load, parse
from cuckoo.resources import shipped


def cuckoo(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("CUCKOO_CONFIG", "XDG_STATE_HOME")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_state_dir_defaults() -> None:
    home = Path("/home/ann")
    assert default_state_dir(system=True, env={}, home=home) == SYSTEM_STATE_DIR
    assert default_state_dir(system=False, env={}, home=home) == home / ".local/state/cuckoo"
    xdg = {"XDG_STATE_HOME": "/srv/state"}
    assert default_state_dir(system=False, env=xdg, home=home) == Path("/srv/state/cuckoo")
    # the XDG spec: a relative path is invalid and ignored
    rel = {"XDG_STATE_HOME": "state"}
    assert default_state_dir(system=False, env=rel, home=home) == home / ".local/state/cuckoo"


def test_config_text_moves_the_data_and_keeps_the_rest() -> None:
    sample = shipped("cuckoo.toml").read_text(encoding="utf-8")
    text = config_text(sample, Path('/srv/cu"ckoo'))
    config = parse(text, base_dir=Path("/etc/cuckoo"))
    assert config.path(config.var_dir) == Path('/srv/cu"ckoo')
    assert config.path(config.models_dir) == Path('/srv/cu"ckoo/models')
    assert config.path(config.scenarios_dir) == Path("/etc/cuckoo/scenarios")
    # every comment line of the sample survives: it is the admin's manual
    assert [ln for ln in sample.splitlines() if ln.startswith("#")] == [
        ln for ln in text.splitlines() if ln.startswith("#")
    ]


def test_init_writes_a_working_configuration(tmp_path: Path) -> None:
    state_home = tmp_path / "xdg-state"
    target = tmp_path / "conf"
    done = cuckoo(tmp_path, "init", str(target), "--user", env={"XDG_STATE_HOME": str(state_home)})
    assert done.returncode == 0, done.stderr
    assert str(state_home / "cuckoo") in done.stdout

    config = load(target / "cuckoo.toml")
    assert config.path(config.var_dir) == state_home / "cuckoo"
    for name in ("scenarios", "voices"):
        shipped_files = sorted(p.name for p in shipped(name).iterdir() if p.is_file())
        assert sorted(p.name for p in (target / name).iterdir()) == shipped_files
    assert not state_home.exists()  # the data folder is made by db upgrade, as its user

    check = cuckoo(tmp_path, "-c", str(target / "cuckoo.toml"), "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert not state_home.exists()  # check reads only

    up = cuckoo(tmp_path, "-c", str(target / "cuckoo.toml"), "db", "upgrade")
    assert up.returncode == 0, up.stderr
    db = state_home / "cuckoo" / "cuckoo.sqlite"
    assert db.is_file()
    assert (db.stat().st_mode & 0o777, db.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conf", "xdg-state"]  # nothing in cwd


def test_init_refuses_to_overwrite_and_force_replaces_only_shipped_files(tmp_path: Path) -> None:
    target = tmp_path / "conf"
    assert cuckoo(tmp_path, "init", str(target), "--state-dir", "data").returncode == 0
    config_file = target / "cuckoo.toml"
    # --state-dir is taken from the current folder and written absolute
    assert load(config_file).path(load(config_file).var_dir) == tmp_path / "data"

    config_file.write_text("# mine\n", encoding="utf-8")
    mine = target / "scenarios" / "my_own.yaml"
    mine.write_text("name: mine\n", encoding="utf-8")
    again = cuckoo(tmp_path, "init", str(target), "--system")
    assert again.returncode == 1
    assert f"{config_file}" in again.stderr and "--force" in again.stderr
    assert config_file.read_text(encoding="utf-8") == "# mine\n"

    # a scenario file alone is enough to refuse: nothing of the admin's is replaced silently
    config_file.unlink()
    edited = target / "scenarios" / "order_ready.yaml"
    edited.write_text("edited\n", encoding="utf-8")
    refused = cuckoo(tmp_path, "init", str(target))
    assert refused.returncode == 1 and "order_ready.yaml" in refused.stderr
    assert not config_file.exists() and edited.read_text(encoding="utf-8") == "edited\n"

    forced = cuckoo(tmp_path, "init", str(target), "--system", "--force")
    assert forced.returncode == 0, forced.stderr
    assert load(config_file).var_dir == SYSTEM_STATE_DIR
    assert edited.read_bytes() == (shipped("scenarios") / "order_ready.yaml").read_bytes()
    assert mine.read_text(encoding="utf-8") == "name: mine\n"
