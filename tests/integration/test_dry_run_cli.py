"""`cuckoo run --channel dry-run` logs the real rendered texts — the call's message and question,
the SMS text, from the notification's scenario and variables — and changes nothing in the store
(no attempt, no contact, no report: a dry run against the real store leaves it as it was)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ALWAYS = "\n".join(
    f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
VARS = [
    "--var", "customer.first_name=Пётр", "--var", "customer.patronymic=Николаевич",
    "--var", "sent_date=2026-02-07", "--var", "period=декабрь", "--var", "company=ООО Ромашка",
]  # fmt: skip


def cuckoo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_dry_run_says_the_rendered_scenario(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    (tmp_path / "cuckoo.toml").write_text(
        f'scenarios_dir = "{REPO / "scenarios"}"\n[store]\nurl = "sqlite:///{db}"\n'
        f"[policy.window]\n{ALWAYS}\n[policy.sms_window]\n{ALWAYS}\n",
        encoding="utf-8",
    )
    assert cuckoo(tmp_path, "db", "upgrade").returncode == 0
    for channel, phone in (("call", "+79123456789"), ("sms", "+79123456780")):
        added = cuckoo(
            tmp_path, "notify", "add", "--channel", channel, "--phone", phone,
            "--scenario", "documents_sent", *VARS,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    before = snapshot(db)
    run = cuckoo(tmp_path, "run", "--once", "--channel", "dry-run")
    assert run.returncode == 0, run.stderr
    assert "would call +79123456789" in run.stderr
    assert "Пётр Николаевич, здравствуйте! Это ООО Ромашка." in run.stderr
    assert any("нажмите 1" in line for line in run.stderr.splitlines())
    assert "would text +79123456780" in run.stderr
    assert (
        "Пётр Николаевич, 7 февраля мы отправили Вам заказным письмом бухгалтерские документы "
        "за декабрь. ООО Ромашка."
    ) in run.stderr
    assert "2 attempts shown; nothing was changed" in run.stdout
    # A dry run against the real store changes nothing: no attempt, no contact, no report.
    assert snapshot(db) == before
    again = cuckoo(tmp_path, "run", "--once", "--channel", "dry-run")
    assert "2 attempts shown" in again.stdout  # still due: nothing was leased


def snapshot(db: Path) -> list[tuple[object, ...]]:
    """Every row of the store's tables that a run changes."""
    con = sqlite3.connect(db)
    try:
        rows: list[tuple[object, ...]] = []
        for table in ("notifications", "attempts", "outbox", "sms_requests"):
            rows += [(table, *r) for r in con.execute(f"SELECT * FROM {table} ORDER BY id")]
        return rows
    finally:
        con.close()
