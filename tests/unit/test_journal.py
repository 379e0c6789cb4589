"""The worker's journal of results (cuckoo.worker.journal), the precedence of a late result
(cuckoo.policy.late) and the store-outage back-off (cuckoo.worker.outage): the pure parts with
plain values, the journal file on real files with real locks in real processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cuckoo.domain import AttemptResult, ChannelKind, Notification, Outcome, Status
from cuckoo.policy.late import Verdict, late_result, same_result
from cuckoo.worker.journal import (
    Entry,
    Journal,
    decode_line,
    encode_done,
    encode_result,
    pending_of,
)
from cuckoo.worker.outage import Outage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def entry(nid: int = 7, attempt: int = 1, outcome: Outcome = Outcome.CONFIRMED) -> Entry:
    n = Notification(
        id=nid,
        source="shop",
        external_id=f"АКТ-{nid}",
        tenant="default",
        phone="+79121000001",
        phone_raw="8 (912) 100-00-01",
        channel=ChannelKind.CALL,
        scenario="documents_sent",
        variables={"period": "октябрь", "amount": 1250.5, "items": [1, 2]},
        timezone="Asia/Yekaterinburg",
        attempt_no=attempt,
        contacts=0,
    )
    r = AttemptResult(
        outcome=outcome,
        started_at=NOW,
        ended_at=NOW + timedelta(seconds=21, microseconds=123456),
        answered_at=NOW + timedelta(seconds=2),
        sip_code=200,
        dtmf="1",
        transcript="да",
        callback_at=None,
        detail="pressed 1",
        said=["Здравствуйте", "Спасибо"],
        sms_text="Акт отправлен",
    )
    return Entry("host:123", n, r, NOW + timedelta(seconds=22))


# ---- the precedence of a late result (pure) ----------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status", "verdict"),
    [
        # reaped and waiting for a retry, or a newer attempt running: a reached customer wins
        (Outcome.CONFIRMED, Status.PENDING, Verdict.APPLY),
        (Outcome.CONFIRMED, Status.ACTIVE, Verdict.APPLY),
        (Outcome.OPTED_OUT, Status.PENDING, Verdict.APPLY),
        (Outcome.CALLBACK_REQUESTED, Status.PENDING, Verdict.APPLY),
        (Outcome.DELIVERED, Status.PENDING, Verdict.APPLY),
        (Outcome.SENT, Status.PENDING, Verdict.APPLY),
        (Outcome.WRONG_NUMBER, Status.PENDING, Verdict.APPLY),  # not the customer: never again
        # not reached: the retry was going to happen anyway
        (Outcome.BUSY, Status.PENDING, Verdict.RECORD),
        (Outcome.NO_ANSWER, Status.ACTIVE, Verdict.RECORD),
        (Outcome.INTERRUPTED, Status.PENDING, Verdict.RECORD),
        (Outcome.VOICEMAIL, Status.PENDING, Verdict.RECORD),
        # ended without the customer's word (the reap used up the attempts): their word wins
        (Outcome.CONFIRMED, Status.EXHAUSTED, Verdict.APPLY),
        (Outcome.DECLINED, Status.EXPIRED, Verdict.APPLY),
        (Outcome.DELIVERED, Status.EXHAUSTED, Verdict.RECORD),
        (Outcome.CALLBACK_REQUESTED, Status.EXHAUSTED, Verdict.RECORD),
        # the customer already answered on a later attempt: the first word stored stands
        (Outcome.CONFIRMED, Status.DECLINED, Verdict.RECORD),
        (Outcome.DECLINED, Status.CONFIRMED, Verdict.RECORD),
        (Outcome.CONFIRMED, Status.DELIVERED, Verdict.RECORD),
        (Outcome.WRONG_NUMBER, Status.EXHAUSTED, Verdict.APPLY),
        (Outcome.CONFIRMED, Status.WRONG_NUMBER, Verdict.RECORD),
    ],
)
def test_late_result_precedence(outcome: Outcome, status: Status, verdict: Verdict) -> None:
    assert late_result(outcome, status) == verdict


def test_same_result_is_outcome_and_end_time() -> None:
    end = NOW + timedelta(seconds=30)
    assert same_result("confirmed", end, Outcome.CONFIRMED, end)
    assert not same_result("interrupted", NOW, Outcome.CONFIRMED, end)  # the reaper's
    assert not same_result("confirmed", NOW, Outcome.CONFIRMED, end)
    assert not same_result(None, None, Outcome.CONFIRMED, end)  # still open


# ---- journal lines (pure) -----------------------------------------------------------------------


def test_a_result_line_round_trips() -> None:
    e = entry()
    key, back = decode_line(encode_result(e))
    assert key == "7/1" and back == e
    assert decode_line(encode_done("7/1")) == ("7/1", None)


def test_what_to_replay_is_every_result_without_a_later_done() -> None:
    a, b, c = entry(1), entry(2), entry(3)
    b2 = entry(2, outcome=Outcome.DECLINED)  # the same attempt recorded again: the last wins
    lines = [
        encode_result(a),
        encode_result(b),
        encode_done("1/1"),
        encode_result(c),
        encode_result(b2),
        encode_done("9/9"),  # done for something never recorded: ignored
    ]
    pending, problems = pending_of(lines)
    assert [e.key for e in pending] == ["3/1", "2/1"]
    assert pending[1].result.outcome == Outcome.DECLINED
    assert problems == []


def test_a_torn_or_foreign_line_is_reported_and_the_rest_replayed() -> None:
    good = encode_result(entry(1))
    lines = [
        good,
        '{"v": 2, "op": "result", "key": "x"}',
        '{"v": 1, "op": "result", "key": "5/1", "owner": "w"}',
        encode_result(entry(2))[:40],  # a power cut mid-write
    ]
    pending, problems = pending_of(lines, "j.jsonl")
    assert [e.key for e in pending] == ["1/1"]
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4"]
    assert "version 2" in problems[0]
    assert "bad result record: KeyError" in problems[1]
    assert "not JSON" in problems[2]


def test_a_key_that_does_not_match_its_record_is_refused() -> None:
    data = json.loads(encode_result(entry(1)))
    data["key"] = "2/1"
    with pytest.raises(ValueError, match="does not match"):
        decode_line(json.dumps(data))


# ---- the journal file ---------------------------------------------------------------------------


def test_results_survive_the_process_and_done_ones_are_gone(tmp_path: Path) -> None:
    folder = tmp_path / "journal"
    j = Journal(folder)
    assert j.open() == []
    assert j.path == folder / "worker-0.jsonl"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct(j.path.stat().st_mode & 0o777) == "0o600"
    j.record(entry(1))
    j.record(entry(2))
    j.done("1/1")
    j.close()
    again = Journal(folder)
    assert [e.key for e in again.open()] == ["2/1"]
    assert again.pending()[0] == entry(2)
    again.done("2/1")
    assert again.path is not None and again.path.read_text() == ""  # emptied when nothing waits
    again.close()


def test_a_memory_journal_keeps_results_without_a_file() -> None:
    j = Journal(None)
    assert j.open() == []
    j.record(entry(1))
    assert len(j) == 1 and j.path is None
    j.done("1/1")
    assert len(j) == 0


LOCK_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cuckoo.worker.journal import Journal
    j = Journal(Path(sys.argv[1]))
    print(j.path if j.open() is not None else "", len(j), flush=True)
    time.sleep(60)
    """
)


def test_workers_sharing_a_var_dir_keep_their_own_files_and_adopt_a_dead_ones(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "journal"
    dead = Journal(folder)  # a worker that died with two results pending
    dead.open()
    dead.record(entry(1))
    dead.record(entry(2))
    dead.close()
    live = subprocess.Popen(  # a live worker in its own process takes that file over
        [sys.executable, "-c", LOCK_HOLDER, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert live.stdout is not None
        assert live.stdout.readline().split() == [str(folder / "worker-0.jsonl"), "2"]
        # A second worker on the same var_dir gets a file of its own and leaves the live
        # worker's alone; it dies with one result pending.
        second = Journal(folder)
        assert second.open() == []
        assert second.path == folder / "worker-1.jsonl"
        second.record(entry(5))
        second.close()
    finally:
        live.kill()
        live.wait()
    # Both are gone: the next worker replays everything either left, in one file.
    last = Journal(folder)
    assert sorted(e.key for e in last.open()) == ["1/1", "2/1", "5/1"]
    assert last.path == folder / "worker-0.jsonl"
    assert sorted(p.name for p in folder.iterdir()) == ["worker-0.jsonl"]
    assert sorted(e.key for e in pending_of(last.path.read_text().splitlines())[0]) == [
        "1/1",
        "2/1",
        "5/1",
    ]
    last.close()


# ---- the outage ---------------------------------------------------------------------------------


def test_an_outage_warns_once_backs_off_and_ends_once() -> None:
    o = Outage(base_s=1.0, max_s=8.0)
    assert o.may_try(0.0) and o.succeeded(0.0) is None  # up: nothing to say
    assert o.failed(10.0) is True  # the one moment to warn
    assert not o.may_try(10.5) and o.may_try(11.0)
    assert o.failed(11.0) is False  # still the same outage
    assert not o.may_try(12.9) and o.may_try(13.0)  # 2 s
    for t in (13.0, 17.0, 25.0):  # 4, 8, 8 (capped)
        o.failed(t)
    assert o.retry_in(25.0) == 8.0
    assert o.succeeded(33.5) == 23.5  # how long it lasted, once
    assert o.succeeded(34.0) is None
    assert o.may_try(34.0) and o.failed(40.0) is True  # a new outage warns again
