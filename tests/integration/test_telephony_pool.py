"""Call worker processes: the call Channel end to end through the trunk dial plan, and a worker
killed mid-call (SIGKILL) ends only its own calls, as INTERRUPTED; the pool restarts it."""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from telephony_helpers import (
    CachedEspeakSpeech,
    EspeakSpeech,
    GreetThenWaitForKey,
    LoggingWaitForKey,
    SimPhoneProc,
    WaitForKey,
    call_request,
    notification,
)

from cuckoo.config.telephony import DialRule, TelephonySettings, TrunkSettings
from cuckoo.domain import Outcome
from cuckoo.logs import LogSpec, configure
from cuckoo.telephony.pool import CallChannel, CallPool, WorkerSpec

pytestmark = pytest.mark.sip

TESTS_DIR = str(Path(__file__).resolve().parents[1])


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimPhoneProc]:
    script = {
        "default": {"answer_after_s": 0.2},
        "users": {
            "89123456789": {"dtmf": [{"at_s": 0.8, "keys": "1", "method": "rfc2833"}]},
            "84950000000": {"action": "busy"},
        },
    }
    p = SimPhoneProc(script, tmp_path_factory.mktemp("pool"))
    yield p
    assert p.stop() == 0


def test_call_channel_through_the_trunk_dial_plan(phone: SimPhoneProc) -> None:
    settings = TelephonySettings(
        bind_host="127.0.0.1",
        workers=1,
        calls_per_worker=2,
        ring_timeout_s=5,
        trunk=TrunkSettings(domain=f"127.0.0.1:{phone.port}"),
        dial_plan=[DialRule(match=r"\+7(\d{10})", replace=r"8\1")],
    )
    spec = WorkerSpec(
        settings=settings, converse=WaitForKey(), speech=EspeakSpeech(), extra_sys_path=(TESTS_DIR,)
    )
    channel = CallChannel(settings, CallPool(settings, spec)).start()
    try:
        # wait_s travels in the notification's variables; WaitForKey reads it
        ok = channel.deliver(notification("+79123456789", 1, wait_s=4))
        busy = channel.deliver(notification("+74950000000", 2, wait_s=4))
    finally:
        channel.close()
    assert ok.outcome == Outcome.CONFIRMED, ok
    assert ok.dtmf == "1" and ok.sip_code == 200 and ok.answered_at is not None
    assert busy.outcome == Outcome.BUSY and busy.sip_code == 486
    assert phone.wait_event("incoming", user="89123456789")


def test_killed_worker_interrupts_only_its_calls(phone: SimPhoneProc) -> None:
    settings = TelephonySettings(
        bind_host="127.0.0.1", workers=2, calls_per_worker=2, ring_timeout_s=5, calls_per_second=50
    )
    spec = WorkerSpec(
        settings=settings, converse=WaitForKey(), speech=EspeakSpeech(), extra_sys_path=(TESTS_DIR,)
    )
    pool = CallPool(settings, spec).start()
    try:
        victim_pid = pool.worker_pids()[0]
        # least-loaded placement: call 1 → worker 0, call 2 → worker 1, call 3 → worker 0
        futs = [pool.submit(call_request(phone.uri(f"p{i}"), wait_s=6)) for i in range(3)]
        for i in range(3):
            phone.wait_event("answered", user=f"p{i}")
        os.kill(victim_pid, signal.SIGKILL)
        results = [f.result(timeout=30) for f in futs]
        assert [r.outcome for r in results] == [
            Outcome.INTERRUPTED,
            Outcome.DELIVERED,
            Outcome.INTERRUPTED,
        ], results
        assert "worker died" in results[0].detail
        # The pool restarted the worker: new calls work on both workers again.
        deadline = time.monotonic() + 20
        while pool.restarts < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pool.restarts == 1 and victim_pid not in pool.worker_pids()
        # (the sim-phone still holds the 2 dead calls until its RTP watchdog fires: 2 more fit)
        with ThreadPoolExecutor(2) as ex:
            again = list(
                ex.map(
                    lambda u: pool.submit(call_request(phone.uri(u), wait_s=0.5)).result(30),
                    ["again1", "again2"],
                )
            )
        assert all(r.outcome == Outcome.DELIVERED for r in again), again
    finally:
        pool.stop()


def test_call_channel_from_cuckoo_toml(phone: SimPhoneProc, tmp_path: Path) -> None:
    from cuckoo import config as config_mod
    from cuckoo.worker.channels import call_channel

    toml = tmp_path / "cuckoo.toml"
    toml.write_text(
        '[telephony]\nbind_host = "127.0.0.1"\nworkers = 1\ncalls_per_worker = 1\n'
        "record_dir = 'rec'\n"
        "dial_plan = [{ match = '\\+7(\\d{10})', replace = '8\\1' }]\n"
        f'[telephony.trunk]\ndomain = "127.0.0.1:{phone.port}"\n'
    )
    # the worker's own conversation (the scenario), but keys only and espeak: fast and certain
    channel = call_channel(config_mod.load(toml))
    channel.pool.spec = WorkerSpec(
        channel.settings, converse=WaitForKey(), speech=EspeakSpeech(), extra_sys_path=(TESTS_DIR,)
    )
    channel.start()
    try:
        r = channel.deliver(notification("+79123456789", 3, wait_s=4))
    finally:
        channel.close()
    assert r.outcome == Outcome.CONFIRMED and r.dtmf == "1", r
    assert r.recording_path and Path(r.recording_path).exists()
    assert Path(r.recording_path).parent == tmp_path / "rec"


def test_clean_shutdown_with_calls_in_progress(phone: SimPhoneProc) -> None:
    settings = TelephonySettings(
        bind_host="127.0.0.1", workers=1, calls_per_worker=2, calls_per_second=50
    )
    spec = WorkerSpec(
        settings=settings, converse=WaitForKey(), speech=EspeakSpeech(), extra_sys_path=(TESTS_DIR,)
    )
    pool = CallPool(settings, spec).start()
    futs = [pool.submit(call_request(phone.uri(f"stop{i}"), wait_s=30)) for i in range(2)]
    for i in range(2):
        phone.wait_event("answered", user=f"stop{i}")
    procs = [w.proc for w in pool._workers]
    pool.stop()
    results = [f.result(timeout=1) for f in futs]
    assert [r.outcome for r in results] == [Outcome.INTERRUPTED] * 2, results
    assert all("shutdown" in r.detail for r in results)
    assert [p.exitcode for p in procs] == [0]
    for i in range(2):  # the customers got a BYE, not a dead line
        assert phone.wait_event("ended", user=f"stop{i}")["remote_hangup"] is True


def test_abandoned_invite_keeps_its_slot_until_pjsua_frees_it(phone: SimPhoneProc) -> None:
    from telephony_helpers import free_port

    settings = TelephonySettings(
        bind_host="127.0.0.1",
        workers=1,
        calls_per_worker=2,
        setup_timeout_s=0.5,
        calls_per_second=50,
    )
    spec = WorkerSpec(
        settings=settings, converse=WaitForKey(), speech=EspeakSpeech(), extra_sys_path=(TESTS_DIR,)
    )
    pool = CallPool(settings, spec).start()
    try:
        # Nobody at that UDP port: we give up (network); pjsua holds the slot ~32 s more.
        r = pool.submit(call_request(f"sip:x@127.0.0.1:{free_port()}")).result(30)
        assert r.outcome == Outcome.NETWORK and "no SIP response" in r.detail, r
        w = pool._workers[0]
        assert w.load == 1 and w.lingering  # the pool does not hand that slot out
        ok = pool.submit(call_request(phone.uri("after"), wait_s=0.5)).result(30)
        assert ok.outcome == Outcome.DELIVERED, ok  # the other slot works
    finally:
        pool.stop()


def test_terminated_worker_hangs_up_with_bye(phone: SimPhoneProc) -> None:
    settings = TelephonySettings(
        bind_host="127.0.0.1", workers=1, calls_per_worker=1, calls_per_second=50
    )
    spec = WorkerSpec(
        settings=settings, converse=WaitForKey(), speech=EspeakSpeech(), extra_sys_path=(TESTS_DIR,)
    )
    pool = CallPool(settings, spec).start()
    try:
        fut = pool.submit(call_request(phone.uri("term0"), wait_s=30))
        phone.wait_event("answered", user="term0")
        os.kill(pool.worker_pids()[0], signal.SIGTERM)
        r = fut.result(timeout=30)
        assert r.outcome == Outcome.INTERRUPTED, r
        assert phone.wait_event("ended", user="term0")["remote_hangup"] is True  # a BYE came
    finally:
        pool.stop()


def test_a_call_workers_lines_name_the_notification(phone: SimPhoneProc, tmp_path: Path) -> None:
    """The notification context crosses into the call worker process with the CallRequest; the
    worker logs as its parent does (JSON, the same file)."""
    log_file = tmp_path / "cuckoo.log"
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    configure(LogSpec(format="json", file=str(log_file)))
    settings = TelephonySettings(bind_host="127.0.0.1", workers=1, ring_timeout_s=5)
    spec = WorkerSpec(  # its `log` is the spec configured above
        settings=settings, converse=LoggingWaitForKey(), extra_sys_path=(TESTS_DIR,)
    )
    pool = CallPool(settings, spec).start()
    try:
        request = call_request(phone.uri("logged"), wait_s=0.5)
        report = pool.submit(request).result(timeout=30)
    finally:
        pool.stop()
        configure(LogSpec())
        root.handlers[:] = before[0]
        root.setLevel(before[1])
    assert report.outcome == Outcome.DELIVERED, report
    rows = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    (said,) = [r for r in rows if r["logger"] == "tests.conversation"]
    assert said["message"] == "conversation starts"
    assert (said["notification"], said["tenant"], said["attempt"]) == (1, "default", 1)
    assert said["process"] == "worker0"


def test_the_workers_voice_counts_its_cache_hits(phone: SimPhoneProc, tmp_path: Path) -> None:
    """Each result brings its worker's phrase-cache counts; the pool sums them (/metrics)."""
    settings = TelephonySettings(
        bind_host="127.0.0.1",
        workers=1,
        calls_per_worker=1,
        ring_timeout_s=5,
        trunk=TrunkSettings(domain=f"127.0.0.1:{phone.port}"),
        dial_plan=[DialRule(match=r"\+7(\d{10})", replace=r"8\1")],
    )
    spec = WorkerSpec(
        settings=settings,
        converse=GreetThenWaitForKey(),
        speech=CachedEspeakSpeech(str(tmp_path / "cache")),
        extra_sys_path=(TESTS_DIR,),
    )
    channel = CallChannel(settings, CallPool(settings, spec)).start()
    try:
        assert channel.tts_counts() == (0, 0)
        first = channel.deliver(notification("+79123456789", 1, wait_s=4))
        hits, made = channel.tts_counts()
        # the greeting and the [telephony] apology kept ready: synthesized, then cached
        assert (hits, made) == (0, 2)
        second = channel.deliver(notification("+79123456789", 2, wait_s=4))
        assert channel.tts_counts() == (2, 2)  # the same words again: from the cache
    finally:
        channel.close()
    assert first.answered_at is not None and second.answered_at is not None
