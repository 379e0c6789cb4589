"""`cuckoo check` as an admin runs it: a real subprocess over real files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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
