"""Call worker processes and the call `Channel` the scheduler uses.

pjsua2 allows one Endpoint and at most 4 calls per process, so calls run in worker processes
(multiprocessing, spawn), each owning one Engine (its own SIP port) and up to
`calls_per_worker` calls, one thread per call. The pool starts `workers` of them, restarts one
that dies, and reports every call a dead worker had as Outcome.INTERRUPTED — only those.

Parent ⇄ worker messages (a Pipe):
  parent → worker: ("call", call_id, uri, request, record_path) | ("stop",)
  worker → parent: ("ready", port) | ("result", call_id, result) | ("free", call_id)
                   | ("fatal", text)
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import signal
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cuckoo.domain import AttemptResult, ChannelKind, Notification, Outcome
from cuckoo.errors import PoolStopping
from cuckoo.policy.ratelimit import TokenBucket
from cuckoo.settings.telephony import TelephonySettings

log = logging.getLogger(__name__)

TIMER_B_S = 33.0  # pjsip's INVITE timeout (64 * T1) and a margin


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs, picklable. Factories are import paths ("module:function")."""

    settings: dict[str, Any]  # TelephonySettings.model_dump()
    config_path: str | None = None  # cuckoo.toml, for the synthesizer / recognizer builders
    converse: str = ""  # "module:function(line, request) -> dict"; "" = say_and_wait
    synthesizer: str = ""  # "module:function(config)" ; "" = from settings
    recognizer: str = ""  # "module:function(config) -> RecognizerFactory"; "" = from settings
    extra_sys_path: list[str] = field(default_factory=list)


# ---- the worker process ---------------------------------------------------------------------


class _Terminate(Exception):
    pass


def _raise_terminate(signum: int, frame: Any) -> None:
    raise _Terminate()


def _build(spec: WorkerSpec, settings: TelephonySettings) -> tuple[Any, Any, Any]:
    from cuckoo import config as config_mod
    from cuckoo.telephony.calls import load_object, say_and_wait

    cfg = config_mod.load(spec.config_path) if spec.config_path else config_mod.Config()
    converse = load_object(spec.converse, "converse") if spec.converse else say_and_wait
    if settings.conversation and not spec.converse:
        converse = load_object(settings.conversation, "[telephony] conversation")
    synth_path = spec.synthesizer or settings.synthesizer
    try:
        synth = load_object(synth_path, "synthesizer")(cfg)
    except (ImportError, ValueError) as e:
        from cuckoo.telephony.espeak import EspeakSynthesizer

        log.warning("synthesizer %s unavailable (%s): using espeak-ng", synth_path, e)
        synth = EspeakSynthesizer()
    rec_path = spec.recognizer or settings.recognizer
    recognizer = None
    if rec_path:
        try:
            recognizer = load_object(rec_path, "recognizer")(cfg)
        except Exception as e:  # no ASR still leaves DTMF: calls go on
            log.warning("recognizer %s unavailable (%s): listening to DTMF only", rec_path, e)
    return converse, synth, recognizer


def worker_main(conn: Connection, spec: WorkerSpec, index: int) -> None:
    """Entry point of a call worker process."""
    import sys

    sys.path[:0] = [p for p in spec.extra_sys_path if p not in sys.path]
    if spec.config_path:
        import os

        # so a conversation calling cuckoo.config.load() reads the same cuckoo.toml
        os.environ.setdefault("CUCKOO_CONFIG", str(spec.config_path))
    from cuckoo.telephony.calls import engine_config, run_call, wait_all_ended
    from cuckoo.telephony.engine import Engine

    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s worker{index} %(message)s")
    # Ctrl-C reaches the whole process group: the parent stops the pool in order. SIGTERM
    # (e.g. multiprocessing ending daemonic children) still hangs up with a BYE.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_terminate)
    settings = TelephonySettings.model_validate(spec.settings)
    send_lock = threading.Lock()

    def send(msg: tuple[Any, ...]) -> None:
        with send_lock, contextlib.suppress(OSError, ValueError):  # parent gone: nobody to tell
            conn.send(msg)

    try:
        converse, synth, recognizer = _build(spec, settings)
        engine = Engine(engine_config(settings, index)).start()
    except Exception as e:
        send(("fatal", f"worker {index} cannot start: {e}"))
        return
    send(("ready", engine.local_port))
    threads: list[threading.Thread] = []

    def one_call(call_id: int, uri: str, request: dict[str, Any], record: str | None) -> None:
        handles: list[Any] = []
        try:
            r = run_call(
                engine,
                uri,
                request,
                settings=settings,
                converse=converse,
                synthesizer=synth,
                recognizer_factory=recognizer,
                record_path=record,
                handles=handles,
            )
        except Exception as e:  # still answer the parent
            log.exception("call %s failed", call_id)
            now = datetime.now(UTC).isoformat()
            r = {
                "outcome": Outcome.NETWORK.value,
                "detail": f"worker error: {e}",
                "started_at": now,
                "ended_at": now,
            }
        # An INVITE that never got any response cannot be cancelled (RFC 3261): pjsua keeps
        # its call slot until Timer B fires (32 s, measured) although it reports the call
        # disconnected. Report the attempt now; give the slot back to the pool only then.
        lingering = bool(handles) and handles[0].hangup_cause == "setup_timeout"
        send(("result", call_id, {**r, "slot_busy": lingering}))
        if lingering:
            timer = threading.Timer(TIMER_B_S, send, args=(("free", call_id),))
            timer.daemon = True  # never holds up the worker's shutdown
            timer.start()

    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                break
            if msg[0] == "call":
                _, call_id, uri, request, record = msg
                t = threading.Thread(
                    target=one_call,
                    args=(call_id, uri, request, record),
                    name=f"call-{call_id}",
                    daemon=True,
                )
                threads = [x for x in threads if x.is_alive()] + [t]
                t.start()
    except (EOFError, OSError, _Terminate):
        pass  # the parent is gone or terminates us: hang up and leave
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the shutdown below finish
    engine.stop()  # hangs up calls in progress (BYE); their threads see HANGUP and report
    for t in threads:
        t.join(5)
    wait_all_ended(engine, 0)
    conn.close()


# ---- the parent side ------------------------------------------------------------------------


@dataclass
class _Pending:
    future: Future[dict[str, Any]]
    started_at: datetime
    uri: str


class _Worker:
    def __init__(self, pool: CallPool, index: int) -> None:
        self.pool = pool
        self.index = index
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=worker_main,
            args=(child, pool.spec, index),
            name=f"cuckoo-call-worker-{index}",
            daemon=True,
        )
        self.proc.start()
        child.close()
        self.pending: dict[int, _Pending] = {}
        self.lingering: set[int] = set()  # attempts over, pjsua slot not yet released
        self.ready = threading.Event()
        self.port = 0
        self.dead = False
        self.send_lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name=f"pool-reader-{index}", daemon=True)
        self.reader.start()

    @property
    def load(self) -> int:
        return len(self.pending) + len(self.lingering)

    def send(self, msg: tuple[Any, ...]) -> None:
        with self.send_lock:
            self.conn.send(msg)

    def _read(self) -> None:
        try:
            while True:
                msg = self.conn.recv()
                if msg[0] == "ready":
                    self.port = int(msg[1])
                    self.ready.set()
                elif msg[0] == "result":
                    self.pool._done(self, int(msg[1]), msg[2])
                elif msg[0] == "free":
                    self.pool._freed(self, int(msg[1]))
                elif msg[0] == "fatal":
                    log.error("%s", msg[1])
        except (EOFError, OSError):
            pass
        self.proc.join(5)
        self.dead = True
        self.ready.set()
        self.pool._worker_died(self)


class CallPool:
    """Runs calls in worker processes. `submit(uri, request) -> Future[dict]` (run_call's dict)."""

    def __init__(self, settings: TelephonySettings, spec: WorkerSpec | None = None) -> None:
        self.settings = settings
        self.spec = spec or WorkerSpec(settings=settings.model_dump())
        self._lock = threading.Condition()
        self._workers: list[_Worker] = []
        self._next_id = 0
        self._stopping = False
        # calls-per-second cap: burst 1 spaces INVITEs evenly, 1/rate apart
        self._pacer = TokenBucket(settings.calls_per_second, 1, time.monotonic())
        self.restarts = 0

    def start(self, timeout: float = 30.0) -> CallPool:
        with self._lock:
            self._workers = [_Worker(self, i) for i in range(self.settings.workers)]
        deadline = time.monotonic() + timeout
        for w in self._workers:
            w.ready.wait(max(0.0, deadline - time.monotonic()))
        return self

    @property
    def capacity(self) -> int:
        return self.settings.workers * self.settings.calls_per_worker

    def worker_pids(self) -> list[int]:
        return [w.proc.pid or 0 for w in self._workers]

    def submit(
        self, uri: str, request: dict[str, Any], record_path: str | None = None
    ) -> Future[dict[str, Any]]:
        fut: Future[dict[str, Any]] = Future()
        with self._lock:
            while True:
                if self._stopping:
                    raise PoolStopping("call pool is stopping")
                live = [w for w in self._workers if not w.dead and w.ready.is_set() and w.port]
                free = [w for w in live if w.load < self.settings.calls_per_worker]
                if free:
                    break
                self._lock.wait(0.2)
            time.sleep(self._pacer.reserve(time.monotonic()))
            w = min(free, key=lambda x: x.load)
            self._next_id += 1
            call_id = self._next_id
            w.pending[call_id] = _Pending(fut, datetime.now(UTC), uri)
        # If the worker is dead, its reader notices and reports the call as interrupted.
        with contextlib.suppress(OSError, ValueError):
            w.send(("call", call_id, uri, request, record_path))
        return fut

    def _done(self, w: _Worker, call_id: int, result: dict[str, Any]) -> None:
        with self._lock:
            p = w.pending.pop(call_id, None)
            if result.pop("slot_busy", False):
                w.lingering.add(call_id)
            self._lock.notify_all()
        if p is not None and not p.future.done():
            p.future.set_result(result)

    def _freed(self, w: _Worker, call_id: int) -> None:
        with self._lock:
            w.lingering.discard(call_id)
            self._lock.notify_all()

    def _worker_died(self, w: _Worker) -> None:
        now = datetime.now(UTC)
        with self._lock:
            lost = list(w.pending.values())
            w.pending.clear()
            restart = not self._stopping
            if restart:
                i = self._workers.index(w)
                self.restarts += 1
                log.warning(
                    "call worker %s (pid %s) died: %d call(s) interrupted; restarting",
                    w.index,
                    w.proc.pid,
                    len(lost),
                )
                self._workers[i] = _Worker(self, w.index)
            self._lock.notify_all()
        for p in lost:
            if not p.future.done():
                p.future.set_result(
                    {
                        "outcome": Outcome.INTERRUPTED.value,
                        "uri": p.uri,
                        "started_at": p.started_at.isoformat(),
                        "ended_at": now.isoformat(),
                        "detail": f"call worker died (exit code {w.proc.exitcode})",
                    }
                )

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the workers; calls in progress are hung up and reported."""
        with self._lock:
            self._stopping = True
            workers = list(self._workers)
        for w in workers:
            with contextlib.suppress(OSError, ValueError):
                w.send(("stop",))
        deadline = time.monotonic() + timeout
        for w in workers:
            w.proc.join(max(0.1, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(2)
            w.reader.join(2)

    def __enter__(self) -> CallPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _dt(v: Any) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def attempt_result(r: dict[str, Any]) -> AttemptResult:
    """run_call's dict (or the pool's INTERRUPTED dict) → AttemptResult."""
    now = datetime.now(UTC)
    return AttemptResult(
        outcome=Outcome(r["outcome"]),
        started_at=_dt(r.get("started_at")) or now,
        ended_at=_dt(r.get("ended_at")) or now,
        answered_at=_dt(r.get("answered_at")),
        sip_code=r.get("sip_code"),
        q850_cause=r.get("q850"),
        dtmf=r.get("dtmf") or "",
        transcript=r.get("transcript") or "",
        callback_at=_dt(r.get("callback_at")),
        recording_path=r.get("recording_path"),
        detail=r.get("detail") or "",
        said=list(r.get("said") or []),
        sms_text=r.get("sms_text") or None,
    )


def notification_request(n: Notification) -> dict[str, Any]:
    """What the conversation function gets: the notification's fields, plain data."""
    return {
        "id": n.id,
        "source": n.source,
        "external_id": n.external_id,
        "tenant": n.tenant,
        "phone": n.phone,
        "phone_raw": n.phone_raw,
        "channel": n.channel.value,
        "scenario": n.scenario,
        "variables": dict(n.variables),
        "timezone": n.timezone,
        "attempt_no": n.attempt_no,
        "contacts": n.contacts,
    }


def call_channel(config: Any, config_path: str | Path | None = None) -> CallChannel:
    """The call channel for `cuckoo run`: workers per [telephony], each loading the same
    cuckoo.toml (for the synthesizer, recognizer and conversation). Call `.start()` (or let
    the first `deliver` do it) and `.close()` at shutdown."""
    settings: TelephonySettings = config.telephony
    spec = WorkerSpec(
        settings=settings.model_dump(), config_path=str(config_path) if config_path else None
    )
    return CallChannel(settings, spec)


class CallChannel:
    """cuckoo.domain.Channel for calls. `deliver` blocks until the call is over; it is safe to
    call from many scheduler threads at once (the pool caps the concurrency)."""

    kind = ChannelKind.CALL

    def __init__(
        self,
        settings: TelephonySettings,
        spec: WorkerSpec | None = None,
        *,
        pool: CallPool | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool or CallPool(settings, spec)
        self._started = pool is not None

    def start(self) -> CallChannel:
        if not self._started:
            self.pool.start()
            self._started = True
        return self

    def close(self) -> None:
        self.pool.stop()

    def deliver(self, notification: Notification) -> AttemptResult:
        from cuckoo.errors import InputError
        from cuckoo.telephony.dialplan import target_uri

        self.start()
        started = datetime.now(UTC)
        try:
            uri = target_uri(notification.phone, self.settings)
        except InputError as e:
            return AttemptResult(Outcome.INVALID_NUMBER, started, started, detail=str(e))
        record = None
        if self.settings.record_dir:
            stamp = started.strftime("%Y%m%dT%H%M%S")
            record = str(
                Path(self.settings.record_dir)
                / f"{notification.id}-{notification.attempt_no}-{stamp}.wav"
            )
        fut = self.pool.submit(uri, notification_request(notification), record)
        return attempt_result(fut.result())
