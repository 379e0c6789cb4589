"""Call worker processes and the call `Channel` the scheduler uses.

pjsua2 allows one Endpoint and at most 4 calls per process, so calls run in worker processes
(multiprocessing, spawn), each owning one Engine (its own SIP port) and up to
`calls_per_worker` calls, one thread per call. The pool starts `workers` of them, restarts one
that dies, and reports every call a dead worker had as Outcome.INTERRUPTED — only those.

Parent ⇄ worker messages (a Pipe; the call leg's types are in cuckoo.line.leg):
  parent → worker: ("call", call_id, CallRequest) | ("stop",)
  worker → parent: ("ready", port) | ("result", call_id, CallReport) | ("free", call_id)
                   | ("fatal", text) | ("registration", account, sip_code)

A worker gets everything it needs once, when it starts (`WorkerSpec`): the [telephony]
settings, the conversation to run on every answered call, and the speech setup that builds its
synthesizer and recognizer in the worker process. Nothing in a worker reads cuckoo.toml.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cuckoo.clock import Clock, utcnow
from cuckoo.config.telephony import TelephonySettings
from cuckoo.domain import AttemptResult, ChannelKind, Notification, Outcome
from cuckoo.errors import InputError, PoolStopping
from cuckoo.line.leg import CallReport, CallRequest, Conversation
from cuckoo.line.speech import SpeechSetup
from cuckoo.logs import LogSpec, configure, current_spec, notification_context
from cuckoo.policy.ratelimit import TokenBucket
from cuckoo.telephony.calls import SayAndWait, engine_config, run_call, wait_all_ended
from cuckoo.telephony.engine import CallHandle, Engine
from cuckoo.telephony.trunks import NoTrunk, TrunkPool

log = logging.getLogger(__name__)

TIMER_B_S = 33.0  # pjsip's INVITE timeout (64 * T1) and a margin


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a call worker needs, sent once when it starts (picklable)."""

    settings: TelephonySettings
    converse: Conversation = field(default_factory=SayAndWait)
    speech: SpeechSetup | None = None  # None: no synthesizer, DTMF only (tests, `cuckoo call`)
    extra_sys_path: tuple[str, ...] = ()  # where a test's conversation module lives
    log: LogSpec = field(default_factory=current_spec)  # the parent's format, level and file


# ---- the worker process ---------------------------------------------------------------------


class _Terminate(Exception):
    pass


def _raise_terminate(signum: int, frame: Any) -> None:
    raise _Terminate()


def worker_main(conn: Connection, spec: WorkerSpec, index: int) -> None:
    """Entry point of a call worker process."""
    sys.path[:0] = [p for p in spec.extra_sys_path if p not in sys.path]
    configure(replace(spec.log, label=f"worker{index}"))
    # Ctrl-C reaches the whole process group: the parent stops the pool in order. SIGTERM
    # (e.g. multiprocessing ending daemonic children) still hangs up with a BYE.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_terminate)
    settings = spec.settings
    send_lock = threading.Lock()

    def send(msg: tuple[Any, ...]) -> None:
        with send_lock, contextlib.suppress(OSError, ValueError):  # parent gone: nobody to tell
            conn.send(msg)

    try:
        synth, recognizer = spec.speech() if spec.speech is not None else (None, None)
        engine = Engine(
            engine_config(settings, index),
            on_registration=lambda account, code: send(("registration", account, code)),
        ).start()
    except Exception as e:
        send(("fatal", f"worker {index} cannot start: {e}"))
        return
    send(("ready", engine.local_port))
    threads: list[threading.Thread] = []

    def one_call(call_id: int, request: CallRequest) -> None:
        n = request.notification
        if n is None:  # a one-off call (`cuckoo call`): no notification to name
            run_one(call_id, request)
            return
        with notification_context(n.id, n.tenant, n.attempt_no):
            run_one(call_id, request)

    def run_one(call_id: int, request: CallRequest) -> None:
        handles: list[CallHandle] = []
        try:
            r = run_call(
                engine,
                request,
                settings=settings,
                converse=spec.converse,
                synthesizer=synth,
                recognizer_factory=recognizer,
                handles=handles,
            )
        except Exception as e:  # still answer the parent
            log.exception("call %s failed", call_id)
            r = CallReport.failed(request.uri, Outcome.NETWORK, f"worker error: {e}")
        # An INVITE that never got any response cannot be cancelled (RFC 3261): pjsua keeps
        # its call slot until Timer B fires (32 s, measured) although it reports the call
        # disconnected. Report the attempt now; give the slot back to the pool only then.
        lingering = bool(handles) and handles[0].hangup_cause == "setup_timeout"
        tts = (int(getattr(synth, "hits", 0)), int(getattr(synth, "misses", 0)))
        send(("result", call_id, replace(r, slot_busy=lingering, tts_counts=tts)))
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
                _, call_id, request = msg
                t = threading.Thread(
                    target=one_call,
                    args=(call_id, request),
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
    future: Future[CallReport]
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
        self.tts_counts = (0, 0)  # its voice: (from the cache, synthesized), as last reported
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
                    self.tts_counts = msg[2].tts_counts
                    self.pool._done(self, int(msg[1]), msg[2])
                elif msg[0] == "free":
                    self.pool._freed(self, int(msg[1]))
                elif msg[0] == "fatal":
                    log.error("%s", msg[1])
                elif msg[0] == "registration" and self.pool.on_registration is not None:
                    self.pool.on_registration(str(msg[1]), int(msg[2]))
        except (EOFError, OSError):
            pass
        self.proc.join(5)
        self.dead = True
        self.ready.set()
        self.pool._worker_died(self)


class CallPool:
    """Runs calls in worker processes: `submit(request) -> Future[CallReport]`."""

    def __init__(self, settings: TelephonySettings, spec: WorkerSpec | None = None) -> None:
        self.settings = settings
        self.spec = spec or WorkerSpec(settings=settings)
        self._lock = threading.Condition()
        self._workers: list[_Worker] = []
        self._next_id = 0
        self._stopping = False
        # calls-per-second cap: burst 1 spaces INVITEs evenly, 1/rate apart
        self._pacer = TokenBucket(settings.calls_per_second, 1, time.monotonic())
        self.restarts = 0
        # (engine account, SIP code) of every worker's REGISTER answers (the trunk pool's)
        self.on_registration: Callable[[str, int], None] | None = None

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

    def tts_counts(self) -> tuple[int, int]:
        """Phrases the workers' voices took from the phrase cache and synthesized, summed
        over the workers running now (a restarted worker counts from 0 again)."""
        workers = list(self._workers)
        return sum(w.tts_counts[0] for w in workers), sum(w.tts_counts[1] for w in workers)

    def submit(self, request: CallRequest) -> Future[CallReport]:
        fut: Future[CallReport] = Future()
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
            w.pending[call_id] = _Pending(fut, utcnow(), request.uri)
        # If the worker is dead, its reader notices and reports the call as interrupted.
        with contextlib.suppress(OSError, ValueError):
            w.send(("call", call_id, request))
        return fut

    def _done(self, w: _Worker, call_id: int, result: CallReport) -> None:
        with self._lock:
            p = w.pending.pop(call_id, None)
            if result.slot_busy:
                w.lingering.add(call_id)
            self._lock.notify_all()
        if p is not None and not p.future.done():
            p.future.set_result(result)

    def _freed(self, w: _Worker, call_id: int) -> None:
        with self._lock:
            w.lingering.discard(call_id)
            self._lock.notify_all()

    def _worker_died(self, w: _Worker) -> None:
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
                    CallReport.failed(
                        p.uri,
                        Outcome.INTERRUPTED,
                        f"call worker died (exit code {w.proc.exitcode})",
                        started_at=p.started_at,
                    )
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


class CallChannel:
    """The call `Channel` the scheduler delivers with. `deliver` blocks until the call is over;
    it is safe to call from many scheduler threads at once (the pool caps the concurrency).

    `clock` is the scheduler's clock: the conversation's "now", and under a fast clock (the demo,
    `run --clock-speed`) the call's times are placed where it started on that clock, so they
    agree with the store's other times; its length stays real."""

    kind = ChannelKind.CALL

    def __init__(
        self,
        settings: TelephonySettings,
        pool: CallPool,
        *,
        clock: Clock | None = None,
        record_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.clock = clock
        self.record_dir = record_dir
        self.trunks = TrunkPool(settings)
        pool.on_registration = self.trunks.registration
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> CallChannel:
        with self._lock:
            if not self._started:
                self.pool.start()
                self._started = True
        return self

    def tts_counts(self) -> tuple[int, int]:
        return self.pool.tts_counts()

    def close(self) -> None:
        self.pool.stop()

    def deliver(self, notification: Notification) -> AttemptResult:
        """One attempt: through the first trunk that can take it; a trunk that fails it (no
        SIP response, 408, 5xx, refused credentials: the phone never rang) hands it to the
        next trunk at once, so a dying trunk loses no call and rings no phone twice."""
        self.start()
        started = self.clock() if self.clock is not None else utcnow()
        n = notification
        record = None
        if self.record_dir is not None:
            stamp = started.strftime("%Y%m%dT%H%M%S")
            name = f"{n.id}-{n.attempt_no}-{stamp}.wav"
            record = str(self.record_dir / name)
        tried: tuple[str, ...] = ()
        failed_on: list[str] = []
        report: CallReport | None = None
        while True:
            try:
                route = self.trunks.acquire(n.phone, n.tenant, skip=tried)
            except InputError as e:
                return AttemptResult(Outcome.INVALID_NUMBER, started, started, detail=str(e))
            except NoTrunk as e:
                if report is not None:
                    break  # every trunk failed it: the last one's report stands
                return AttemptResult(Outcome.NETWORK, started, started, detail=f"not dialled: {e}")
            request = CallRequest(
                route.uri,
                n,
                now=started if self.clock is not None else None,
                record_path=record,
                trunk=route.engine_account,
                from_uri=route.from_uri,
            )
            try:
                report = self.pool.submit(request).result()
            finally:
                self.trunks.release(route.trunk)
            trunk_failed = self.trunks.report(route.trunk, report)
            tried += (route.trunk,)
            if not trunk_failed or not self.trunks.has_alternative(n.tenant, tried):
                break
            failed_on.append(f"{route.trunk}: {report.detail or report.sip_code}")
            log.warning(
                "trunk %s failed the call (%s): trying the next", route.trunk, report.detail
            )
        if failed_on:
            report = replace(
                report, detail=f"{report.detail}; failed over from {', '.join(failed_on)}"
            )
        at = getattr(self.clock, "at", None)  # a ScaledClock maps wall time onto its own
        if at is not None:
            report = report.moved_to(at(report.started_at))
        return report.attempt_result()
