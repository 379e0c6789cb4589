"""The wheel as an admin gets it: built from this tree, installed with its dependencies into a
fresh venv, then used from an unrelated folder — `cuckoo init`, `db upgrade` (the migrations
must be inside the wheel), `check`, one notification through `run --once` with the dry-run
channel. The source tree is not on the path: the installed cuckoo is the one that runs."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# The dry run's channels as a channel factory: the same texts, but the attempts are recorded
# (`--channel dry-run` itself changes nothing in the store).
RECORDED_ON_PAPER = "cuckoo.worker.channels:dry_run_channels"

ROOT = Path(__file__).resolve().parents[2]
# What the wheel is built from (a copy: a build writes build/ and *.egg-info next to its input)
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "cuckoo.toml",
           "cuckoo", "adapters", "migrations", "scenarios", "voices"]  # fmt: skip
ALWAYS = "\n".join(
    f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)


def run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 600):
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_wheel_installs_and_runs_without_the_source_tree(tmp_path: Path) -> None:
    # no PYTHONPATH, no config from the caller: only the new venv's cuckoo can be found
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CUCKOO_CONFIG")}
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path / "dist"
    # --no-build-isolation: this venv's setuptools builds it, nothing is fetched for the build
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", dist, src], tmp_path, env)  # fmt: skip
    (wheel,) = dist.glob("cuckoo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("migrations/env.py", "scenarios/documents_sent.yaml",
                    "voices/rhvoice-aleksandr.toml", "cuckoo.toml"):  # fmt: skip
        assert f"cuckoo/_shipped/{shipped}" in names
    assert any(n.startswith("cuckoo/_shipped/migrations/versions/") for n in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], tmp_path, env)
    # with its runtime dependencies only: no extra (pjsua2 is [sip]) is needed for the dry run
    run([venv / "bin/pip", "install", "-q", str(wheel)], tmp_path, env)
    no_sip = [venv / "bin/python", "-c", "import importlib.util as u; print(u.find_spec('pjsua2'))"]
    assert run(no_sip, tmp_path, env).stdout.strip() == "None"

    work = tmp_path / "work"  # an unrelated folder: nothing of the source tree around
    work.mkdir()
    where = run([venv / "bin/python", "-c", "import cuckoo; print(cuckoo.__file__)"], work, env)
    assert Path(where.stdout.strip()).is_relative_to(venv)

    cuckoo = venv / "bin/cuckoo"
    conf, state = work / "etc", work / "state"
    run([cuckoo, "init", conf, "--state-dir", state], work, env)
    config = conf / "cuckoo.toml"
    # a test's calling windows: open now, whatever the time of day
    with config.open("a", encoding="utf-8") as f:
        f.write(f"\n[policy.window]\n{ALWAYS}\nskip_holidays = false\n")
    up = run([cuckoo, "-c", config, "db", "upgrade"], work, env)
    assert f"sqlite:///{state / 'cuckoo.sqlite'}" in up.stdout
    check = run([cuckoo, "-c", config, "check"], work, env)
    assert "check: all good" in check.stdout

    run([cuckoo, "-c", config, "notify", "add", "--phone", "+79123456789", "--id", "doc-1",
         "--scenario", "documents_sent",
         "--var", "customer.first_name=Пётр", "--var", "customer.patronymic=Николаевич",
         "--var", "sent_date=2026-02-07", "--var", "period=декабрь",
         "--var", "company=ООО Ромашка"], work, env)  # fmt: skip
    once = run([cuckoo, "-c", config, "run", "--once", "--channel", RECORDED_ON_PAPER], work, env)
    assert "dispatched 1" in once.stdout
    assert "would call +79123456789" in once.stderr

    report = run([cuckoo, "-c", config, "report", "--format", "csv"], work, env)
    (row,) = list(csv.DictReader(io.StringIO(report.stdout)))
    assert (row["external_id"], row["phone"], row["scenario"]) == (
        "doc-1", "+79123456789", "documents_sent",
    )  # fmt: skip
    # everything cuckoo wrote is in the configuration and the state folders
    assert sorted(p.name for p in work.iterdir()) == ["etc", "state"]
