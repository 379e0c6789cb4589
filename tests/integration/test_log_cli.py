"""[log] as an admin meets it: `cuckoo run --once` writes JSON lines to var/cuckoo.log (0600),
every line about an attempt names its notification, tenant and attempt; CUCKOO_LOG__…
variables switch it without touching the file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

# The dry run's channels as a channel factory: the same texts, but the attempts are recorded
# (`--channel dry-run` itself changes nothing in the store).
RECORDED_ON_PAPER = "cuckoo.worker.channels:dry_run_channels"

REPO = Path(__file__).resolve().parents[2]
ALWAYS = "\n".join(
    f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
VARS = [
    "--var", "customer.first_name=Пётр", "--var", "customer.patronymic=Николаевич",
    "--var", "sent_date=2026-02-07", "--var", "period=декабрь", "--var", "company=ООО Ромашка",
]  # fmt: skip


def cuckoo(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CUCKOO_")}
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_run_writes_json_lines_with_the_attempt_context(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    (tmp_path / "cuckoo.toml").write_text(
        f'scenarios_dir = "{REPO / "scenarios"}"\n[store]\nurl = "sqlite:///{db}"\n'
        f"[policy.window]\n{ALWAYS}\n[policy.sms_window]\n{ALWAYS}\n"
        '[log]\nfile = "logs/cuckoo.log"\n',
        encoding="utf-8",
    )
    json_logs = {"CUCKOO_LOG__FORMAT": "json"}
    assert cuckoo(tmp_path, "db", "upgrade", **json_logs).returncode == 0
    added = cuckoo(
        tmp_path, "notify", "add", "--channel", "call", "--phone", "+79123456789",
        "--tenant", "acme", "--scenario", "documents_sent", *VARS, **json_logs,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    run = cuckoo(tmp_path, "run", "--once", "--channel", RECORDED_ON_PAPER, **json_logs)
    assert run.returncode == 0, run.stderr
    path = tmp_path / "var" / "logs" / "cuckoo.log"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows, "nothing logged"
    # the file gathers every command's lines; stderr carries the same JSON lines
    assert rows[0]["logger"] == "cuckoo.store.migrate"
    ran = [json.loads(line) for line in run.stderr.splitlines()]
    assert ran == rows[-len(ran) :]
    about = [r for r in rows if "notification" in r]
    said = [r for r in about if r["logger"] == "cuckoo.worker.dry_run"]
    finished = [r for r in about if r["message"].startswith("notification 1 attempt 1:")]
    assert said and finished
    for r in said + finished:
        assert (r["notification"], r["tenant"], r["attempt"]) == (1, "acme", 1)
        assert r["level"] == "INFO" and r["ts"].endswith("Z")
    assert all(r["logger"] != "cuckoo.worker.dry_run" for r in rows if r not in about)
