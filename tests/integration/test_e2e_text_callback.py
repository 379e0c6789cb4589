"""The callback flow with the time understood from words, end to end without SIP: the sample SQL
ERP → store → scheduler (default policy and calling window) → the real dialog and NLU over a
TextLine (the customer types what they would say, as in `cuckoo scenario simulate`) → the
callback scheduled at the understood time → the second call placed exactly then → results in
the ERP. Spoken words over SIP need a Russian Vosk model, which these machines cannot download;
the same dialog runs over SIP in test_e2e_calls.py with keys."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from adapters import build_adapter
from adapters.samples.erp import create_sample_erp
from cuckoo.config import parse
from cuckoo.demo.cast import CALLBACK
from cuckoo.demo.rig import scenarios_dir
from cuckoo.dialog.converse import ScenarioConversation
from cuckoo.dialog.text_line import TextLine
from cuckoo.domain import AttemptResult, ChannelKind, Notification
from cuckoo.line.leg import CallRequest
from cuckoo.store import Store
from cuckoo.worker.scheduler import Scheduler

MSK = ZoneInfo("Europe/Moscow")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class TypingCustomer:
    """A call channel whose customer types their answers: the real dialog (converse) over a
    TextLine, with speech understood by the real NLU. One list of typed lines per call."""

    kind = ChannelKind.CALL

    def __init__(self, calls: list[list[str]], clock: Clock) -> None:
        self.calls = calls
        self.clock = clock
        self.transcripts: list[str] = []

    def deliver(self, n: Notification) -> AttemptResult:
        typed = self.calls.pop(0)
        out = io.StringIO()
        line = TextLine(io.StringIO("".join(t + "\n" for t in typed)), out, echo=True)
        started = self.clock()
        converse = ScenarioConversation(scenarios_dir(), speech_available=True)
        r = converse(line, CallRequest("sip:typing", n, now=started))
        self.transcripts.append(out.getvalue())
        return AttemptResult(
            outcome=r.outcome,
            started_at=started,
            ended_at=self.clock(),
            dtmf=r.dtmf,
            transcript=r.transcript,
            said=list(r.said),
            callback_at=r.callback_at,
        )


def test_named_time_is_understood_scheduled_and_called_back(tmp_path: Path) -> None:
    erp_url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    create_sample_erp(
        erp_url,
        documents=[
            {
                "number": "ЗК-000500",
                "last_name": "Захарова",
                "first_name": "Анна",
                "patronymic": "Сергеевна",
                "phone": "+7 916 100-00-08",
                "time_zone": "Europe/Moscow",
                "notify_call": True,
                "notify_scenario": "callback_offer",
                "notify_params": json.dumps(CALLBACK, ensure_ascii=False),
            }
        ],
    )
    cfg = parse(
        f"scenarios_dir = {json.dumps(str(scenarios_dir()))}\n"
        f'[store]\nurl = "sqlite:///{tmp_path / "cuckoo.sqlite"}"\n'
        f'[adapters.shop]\ntype = "sql"\nurl = "{erp_url}"\nerp_timezone = "Europe/Moscow"\n',
        base_dir=tmp_path,
    )
    store = Store.from_config(cfg)
    store.upgrade()
    # Wednesday 18 November 2026, 10:00 in Moscow: inside the default calling window.
    clock = Clock(datetime(2026, 11, 18, 10, 0, tzinfo=MSK).astimezone(UTC))
    customer = TypingCustomer(
        [
            # "Tomorrow around ten?" — no; "When?" — on Friday at eleven; read back — yes.
            ["2", "давайте в пятницу в одиннадцать", "1"],
            # The callback: "tomorrow around ten?" — yes.
            ["да"],
        ],
        clock,
    )
    adapter = build_adapter("shop", cfg.adapters["shop"], tmp_path)
    scheduler = Scheduler(
        store, {ChannelKind.CALL: customer}, [adapter], cfg.scheduler, clock=clock, owner="test"
    )
    try:
        first = scheduler.run_once(timeout=30)
        assert (first.ingested, first.dispatched, first.reported) == (1, 1, 1), first
        row = store.get("shop", "1")
        assert row is not None
        friday_11 = datetime(2026, 11, 20, 11, 0, tzinfo=MSK)
        assert (row.status, row.last_outcome) == ("pending", "callback_requested")
        at = row.next_attempt_at
        assert at is not None
        assert (at if at.tzinfo else at.replace(tzinfo=UTC)) == friday_11
        assert "в пятницу в одиннадцать" in customer.transcripts[0]
        # read back to them: "…послезавтра, в пятницу, двадцатого ноября, в одиннадцать часов"
        assert "в пятницу, двадцатого ноября, в одиннадцать часов" in customer.transcripts[0]

        clock.at = friday_11 - timedelta(minutes=1)
        assert scheduler.run_once(timeout=5).dispatched == 0  # not a minute early
        clock.at = friday_11
        second = scheduler.run_once(timeout=30)
        assert (second.dispatched, second.reported) == (1, 1)
        row = store.get("shop", "1")
        assert row is not None
        assert (row.status, row.attempts, row.last_outcome) == ("confirmed", 2, "confirmed")
    finally:
        scheduler.stop(grace_s=0)
        store.close()
    engine = sa.create_engine(erp_url)
    with engine.connect() as conn:
        results = conn.execute(
            sa.text(
                "SELECT status_code, outcome_code, attempts, callback_at, transcript, detail"
                " FROM notify_results ORDER BY id"
            )
        ).all()
        flags = conn.execute(sa.text("SELECT notify_status, notify_call FROM documents")).one()
    engine.dispose()
    assert [(r[0], r[1], r[2]) for r in results] == [
        ("pending", "callback_requested", 1),
        ("confirmed", "confirmed", 2),
    ]
    assert str(results[0][3]).startswith("2026-11-20 11:00")  # office time, as agreed
    assert "пятницу" in results[0][4]
    # what the manager reads: the agreed time in the customer's own clock
    assert [r[5] for r in results] == [
        "перезвонить 20.11 в 11:00 (по времени клиента)",
        "подтверждено",
    ]
    assert tuple(flags) == ("подтверждено", 0)
