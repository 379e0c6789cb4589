"""`cuckoo check` as an admin runs it: a real subprocess over real files."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.samples.erp import create_sample_erp

# The dry run's channels as a channel factory: the same texts, but the attempts are recorded
# (`--channel dry-run` itself changes nothing in the store).
RECORDED_ON_PAPER = "cuckoo.worker.channels:dry_run_channels"

REPO = Path(__file__).resolve().parents[2]


def run_check(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "check"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def make_project(tmp_path: Path, toml: str = "") -> Path:
    shutil.copytree(REPO / "scenarios", tmp_path / "scenarios")
    shutil.copytree(REPO / "voices", tmp_path / "voices")
    (tmp_path / "cuckoo.toml").write_text(toml, encoding="utf-8")
    return tmp_path


def test_shipped_project_passes() -> None:
    result = run_check(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check: all good" in result.stdout
    assert "scenarios: 4 file(s), 0 problem(s)" in result.stdout


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    make_project(tmp_path, 'scenarios_dir = "scenarios"\n[store]\nno_such_setting = 1\n')
    result = run_check(tmp_path)
    assert result.returncode == 1
    assert "cuckoo.toml:3: [store.no_such_setting]" in result.stdout


def test_broken_scenario_names_file_and_line(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    path = project / "scenarios" / "documents_sent.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    # Point the first `next:` at a state that does not exist.
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("next:"))
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = f"{indent}next: no_such_state"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_check(project)
    assert result.returncode == 1
    assert f"documents_sent.yaml:{index + 1}:" in result.stdout
    assert "no_such_state" in result.stdout


def test_sms_over_segment_limit_is_reported(tmp_path: Path) -> None:
    make_project(tmp_path, "[sms]\nmax_segments = 1\n")
    result = run_check(tmp_path)
    assert result.returncode == 1
    assert "max_segments is 1" in result.stdout


def test_an_sms_step_over_the_segment_limit_is_reported(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    path = project / "scenarios" / "order_ready.yaml"
    text = path.read_text(encoding="utf-8")
    # the address SMS of the `send_address` step, made five times as long
    step = (
        "Заказ {{ order_no }}: {{ pickup.address }}, с {{ pickup.opens }} до {{ pickup.closes }}."
    )
    assert step in text
    path.write_text(text.replace(step, f"{step} {step} {step} {step} {step}"), encoding="utf-8")
    (project / "cuckoo.toml").write_text("[sms]\nmax_segments = 2\n", encoding="utf-8")
    result = run_check(project)
    assert result.returncode == 1
    assert "order_ready.yaml: states.send_address.sms: 4 SMS parts (ucs2)" in result.stdout
    assert "max_segments is 2" in result.stdout


def test_bad_adapter_option_is_named(tmp_path: Path) -> None:
    make_project(tmp_path, '[adapters.shop]\ntype = "sql"\nno_such_option = 1\n')
    result = run_check(tmp_path)
    assert result.returncode == 1
    assert "adapters.shop" in result.stdout


def test_non_commercial_voice_is_warned_about(tmp_path: Path) -> None:
    make_project(tmp_path, '[speech]\nvoice = "silero-v4-ru"\n')
    result = run_check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr  # a warning, not a problem
    assert "warning: [speech] voice silero-v4-ru: licence CC BY-NC 4.0" in result.stdout
    assert "commercial use" in result.stdout
    make_project(tmp_path / "ok", '[speech]\nvoice = "rhvoice-aleksandr"\n')
    assert "licence" not in run_check(tmp_path / "ok").stdout


# ---- the ERPs are reached: each enabled adapter's read-only probe ---------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def line_of(project: Path, text: str) -> int:
    lines = (project / "cuckoo.toml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def test_unreachable_erps_fail_the_check_and_nothing_is_created(tmp_path: Path) -> None:
    good = tmp_path / "erp.db"
    create_sample_erp(f"sqlite:///{good}")
    project = make_project(
        tmp_path,
        "[adapters.gone]\n"
        'type = "sql"\n'
        'url = "sqlite:///var/no_such_erp.db"\n'
        "\n[adapters.broken]\n"
        'type = "sql"\n'
        f'url = "sqlite:///{good}"\n'
        'pending_query = "SELECT id AS external_id FROM no_such_table"\n'
        "\n[adapters.erp1c]\n"
        'type = "onec"\n'
        f'url = "http://127.0.0.1:{closed_port()}/base/odata/standard.odata/"\n'
        "timeout_s = 3\n"
        "\n[adapters.drop]\n"
        'type = "csv"\n'
        'folder = "no_such_inbox"\n',
    )
    result = run_check(project)
    out = result.stdout
    assert result.returncode == 1, out
    assert "check: 4 problem(s)" in out
    toml = "cuckoo.toml"  # as found in the folder it runs in
    url_line = line_of(project, "no_such_erp.db")
    assert f"{toml}:{url_line}: [adapters.gone.url] the SQLite file " in out
    assert f"{project / 'var' / 'no_such_erp.db'} does not exist" in out
    assert not (project / "var").exists()  # neither the file nor its folder was made
    assert f"{toml}:{line_of(project, 'pending_query')}: [adapters.broken.pending_query]" in out
    assert "no such table: no_such_table" in out  # the database's own words
    assert f"{toml}:{line_of(project, '[adapters.erp1c]')}: [adapters.erp1c] cannot reach 1C" in out
    assert "Connection refused" in out or "connection refused" in out.lower()
    folder_line = line_of(project, "no_such_inbox")
    assert f"{toml}:{folder_line}: [adapters.drop.folder] the folder " in out
    assert not (project / "no_such_inbox").exists()
    assert good.stat().st_size > 0  # the good database was only read


def test_reachable_erps_pass_the_check(tmp_path: Path) -> None:
    create_sample_erp(f"sqlite:///{tmp_path / 'erp.db'}")
    (tmp_path / "inbox").mkdir()
    project = make_project(
        tmp_path,
        '[adapters.shop]\ntype = "sql"\nurl = "sqlite:///erp.db"\n'
        '\n[adapters.drop]\ntype = "csv"\nfolder = "inbox"\n'
        '\n[adapters.off]\ntype = "csv"\nfolder = "nowhere"\nenabled = false\n',
    )
    result = run_check(project)
    assert result.returncode == 0, result.stdout
    assert "adapter shop (sql): ok, reached" in result.stdout
    assert "adapter drop (csv): ok, reached" in result.stdout
    assert "adapter off: disabled" in result.stdout
    assert list((tmp_path / "inbox").iterdir()) == []  # the probe made no folders


@pytest.mark.postgres
def test_a_refused_postgresql_login_fails_the_check(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        "[adapters.pg]\n"
        'type = "sql"\n'
        'url = "postgresql+psycopg://no_such_user:wrong@127.0.0.1:5432/test"\n',
    )
    result = run_check(project)
    assert result.returncode == 1, result.stdout
    line = line_of(project, "no_such_user")
    assert f"cuckoo.toml:{line}: [adapters.pg.url]" in result.stdout
    assert 'role "no_such_user" does not exist' in result.stdout
    assert "wrong" not in result.stdout  # the password is never printed


def test_run_once_with_a_missing_erp_file_fails_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "cuckoo.toml").write_text(
        '[store]\nurl = "sqlite:///store.sqlite"\n'
        '\n[adapters.gone]\ntype = "sql"\nurl = "sqlite:///no_such_erp.db"\n',
        encoding="utf-8",
    )
    upgrade = subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "db", "upgrade"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    run = subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "run", "--once", "--channel", RECORDED_ON_PAPER],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "error: " in run.stderr and "no_such_erp.db does not exist" in run.stderr
    assert not (tmp_path / "no_such_erp.db").exists()
