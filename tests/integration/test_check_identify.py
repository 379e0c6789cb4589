"""cuckoo.dialog.identify and `cuckoo check`: the robot names the company within 5 s."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cuckoo.demo.rig import scenarios_dir
from cuckoo.dialog.identify import seconds_until_named, spoken_rate


def test_seconds_until_the_name_is_said() -> None:
    text = "Пётр Николаевич, здравствуйте! Это ООО «Ромашка»."
    # 17 vowels up to the end of «Ромашка»: пЁтр нИкОлАЕвИч здрАвствУйтЕ Это ООО рОмАшкА
    assert seconds_until_named(text, "ООО «Ромашка»", 3.0) == pytest.approx(17 / 3.0)
    assert seconds_until_named(text, "ромашка", 3.0) == pytest.approx(17 / 3.0)
    assert seconds_until_named(text, "Николаевич", 3.0) == pytest.approx(6 / 3.0)
    assert seconds_until_named(text, "Лютик", 3.0) is None
    assert seconds_until_named(text, "", 3.0) is None
    assert seconds_until_named("Это Ромашкин сад", "Ромашка", 3.0) is None  # whole words
    assert spoken_rate("rhvoice", 0.9) == pytest.approx(3.85 * 0.9)


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "-c", str(folder / "cuckoo.toml"), "check"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_fails_a_late_or_missing_name(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    shutil.copytree(scenarios_dir(), scenarios)
    (tmp_path / "cuckoo.toml").write_text(
        'scenarios_dir = "scenarios"\n[policy]\ncompany_name = "ООО «Ромашка»"\n', "utf-8"
    )
    shipped = check(tmp_path)
    # Of the shipped scenarios, order_ready's opening names no company: an admin who set
    # company_name is told so; the other three name it in time.
    named = [ln for ln in shipped.stdout.splitlines() if "the company" in ln]
    assert len(named) == 1 and "order_ready.yaml:" in named[0], shipped.stdout
    assert "does not name the company" in named[0]
    (scenarios / "order_ready.yaml").unlink()
    ok = check(tmp_path)
    assert ok.returncode == 0, ok.stdout

    doc = scenarios / "documents_sent.yaml"
    text = doc.read_text("utf-8")
    late = text.replace(
        "здравствуйте! Это {{ company }}.",
        "здравствуйте! Напоминаем Вам о важном деле, которое касается Ваших документов "
        "и бухгалтерии за прошлый месяц. Это {{ company }}.",
    )
    doc.write_text(late, "utf-8")
    got = check(tmp_path)
    assert got.returncode == 1
    line = next(n for n, ln in enumerate(late.splitlines(), 1) if ln.startswith("  message:"))
    assert (
        f"documents_sent.yaml:{line}: the opening names the company ('ООО «Ромашка»') "
        "only after about" in got.stdout
    )
    doc.write_text(text.replace("Это {{ company }}.", ""), "utf-8")
    gone = check(tmp_path)
    assert gone.returncode == 1
    assert f"documents_sent.yaml:{line}: the opening does not name the company" in gone.stdout
