"""`cuckoo run --channel dry-run` logs and records the real rendered texts: the call's message
and question, the SMS text, from the notification's scenario and variables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cuckoo.store import Store

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
    run = cuckoo(tmp_path, "run", "--once", "--channel", "dry-run")
    assert run.returncode == 0, run.stderr
    assert "would call +79123456789" in run.stderr
    assert "Пётр Николаевич, здравствуйте! Это ООО Ромашка." in run.stderr
    assert "would text +79123456780" in run.stderr

    store = Store(f"sqlite:///{db}")
    said = {}
    for n in (1, 2):
        (attempt,) = store.attempts_of(n)
        said[n] = attempt.said
    store.close()
    call, sms = said[1], said[2]
    assert call[0].startswith("Пётр Николаевич, здравствуйте!")
    assert "седьмого февраля" not in call[0]  # texts stay as written; TTS normalizes later
    assert any("нажмите 1" in line for line in call)
    assert sms == [
        "Пётр Николаевич, 7 февраля мы отправили Вам заказным письмом бухгалтерские документы "
        "за декабрь. ООО Ромашка."
    ]
