"""The worker loop: APScheduler jobs that poll the ERPs, dispatch due notifications to channels,
flush the outbox back to the ERPs, send the SMS that calls asked for, renew this worker's leases
and reap dead workers' leases.

Times come from an injected clock (`Callable[[], datetime]`, aware UTC) so tests and the demo can
move time; APScheduler's own intervals run on the wall clock.

Caps (per worker process): at most `max_concurrent` attempts in flight, at most
`max_concurrent_per_tenant[t]` for tenant t, and new attempts start at `calls_per_second` (token
bucket with `burst`). With N workers the cluster may have N × max_concurrent attempts in flight.
Each attempt runs in its own daemon thread (the caps bound how many), so a stuck call cannot hold
up shutdown: after `shutdown_grace_s` it is recorded INTERRUPTED and the process exits.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from cuckoo.clock import Clock, utcnow
from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.domain import AttemptResult, Channel, ChannelKind, ErpAdapter, Notification, Outcome
from cuckoo.errors import ErpUnavailable
from cuckoo.policy.ratelimit import TokenBucket
from cuckoo.store import SmsRequestItem, SmsRequestState, Store

log = logging.getLogger(__name__)


@runtime_checkable
class TextSender(Protocol):
    """An SMS channel that sends a text rendered elsewhere (cuckoo.sms.SmsChannel)."""

    def send_text(self, notification: Notification, text: str) -> AttemptResult: ...

    def row_stored(self, gateway_message_id: str | None) -> None:
        """A receipt may come before the message id is stored: apply it now."""
        ...


# What to configure for a channel a worker does not have.
_CHANNEL_HINTS = {
    "sms": " (configure [sms.gateways] in cuckoo.toml)",
    "call": " (configure [telephony.trunk] domain in cuckoo.toml)",
}


def backoff_delay(failures: int, base_s: float, max_s: float) -> float:
    """Delay after `failures` failures in a row: base, 2×base, 4×base, … capped at max."""
    if failures <= 0:
        return 0.0
    return min(max_s, base_s * 2 ** min(failures - 1, 30))


def free_slots(
    in_flight_tenants: Sequence[str], max_concurrent: int, per_tenant: Mapping[str, int]
) -> tuple[int, dict[str, int]]:
    """How many attempts may start now: overall, and per capped tenant."""
    total = max(0, max_concurrent - len(in_flight_tenants))
    slots = {t: max(0, cap - in_flight_tenants.count(t)) for t, cap in per_tenant.items()}
    return total, slots


@dataclass
class _InFlight:
    notification: Notification
    started_at: datetime
    thread: threading.Thread | None = None


@dataclass
class _ErpState:
    failures: int = 0
    next_poll_at: datetime | None = None


@dataclass
class CycleReport:
    ingested: int = 0
    dispatched: int = 0
    reported: int = 0
    sms_sent: int = 0  # SMS that calls asked for, sent in this cycle
    reaped: int = 0
    errors: list[str] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        store: Store,
        channels: Mapping[ChannelKind, Channel],
        adapters: Sequence[ErpAdapter] = (),
        settings: SchedulerSettings | None = None,
        clock: Clock = utcnow,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        self.adapters = {a.name: a for a in adapters}
        self.settings = settings or SchedulerSettings()
        self.clock = clock
        self.owner = owner or self.settings.owner or f"{socket.gethostname()}:{os.getpid()}"
        self._lock = threading.Lock()
        self._dispatch_lock = threading.Lock()
        self._in_flight: dict[int, _InFlight] = {}
        self._idle = threading.Condition(self._lock)
        # Leases and the calls-per-second cap are about real time (a dead worker, a trunk's
        # limit) while `clock` may be a fast demo clock: convert between the two.
        self._speed = float(getattr(clock, "speed", 1.0))
        self._lease_span = self.settings.lease_s * self._speed
        self._bucket = TokenBucket(
            self.settings.calls_per_second, self.settings.burst, self._real_seconds(clock())
        )
        self._erp: dict[str, _ErpState] = {name: _ErpState() for name in self.adapters}
        cluster_calls = self.settings.cluster_max_calls
        self._channel_caps = {ChannelKind.CALL: cluster_calls} if cluster_calls else None
        self._stopping = threading.Event()
        self._aps: object | None = None
        self._cycle_errors: list[str] | None = None  # collected while run_once runs

    def _error(self, text: str) -> None:
        """A failure `run --once` must report (its exit status); the jobs only log it."""
        if self._cycle_errors is not None:
            self._cycle_errors.append(text)

    # ---- jobs ------------------------------------------------------------------------------

    def poll(self) -> int:
        """Ingest new rows from every ERP that is not backing off. Returns rows stored."""
        stored = 0
        for name, adapter in self.adapters.items():
            state = self._erp[name]
            now = self.clock()
            if state.next_poll_at is not None and now < state.next_poll_at:
                continue
            try:
                items = adapter.fetch_pending()
            except Exception as e:  # an adapter bug must not stop the others
                state.failures += 1
                delay = backoff_delay(
                    state.failures, self.settings.erp_retry_s, self.settings.erp_retry_max_s
                )
                state.next_poll_at = now + timedelta(seconds=delay)
                level = logging.WARNING if isinstance(e, ErpUnavailable) else logging.ERROR
                log.log(level, "ERP %s: fetch failed (%s); next try in %.0f s", name, e, delay)
                self._error(f"ERP {name}: fetch failed: {e}")
                continue
            state.failures, state.next_poll_at = 0, None
            report = self.store.ingest(items, self.clock())
            stored += report.stored
            for err in report.errors:
                log.warning("ERP %s: rejected %s", name, err)
            if report.new:
                log.info("ERP %s: %d new notifications", name, report.new)
        return stored

    def dispatch(self) -> int:
        """Claim what is due (within the caps) and start an attempt for each. Returns how many."""
        return self._dispatch()[0]

    def _dispatch(self) -> tuple[int, int]:
        """(attempts started, how many the caps allowed)."""
        if self._stopping.is_set() or not self.channels:
            return 0, 0
        with self._dispatch_lock:
            now = self.clock()
            with self._lock:
                tenants = [f.notification.tenant for f in self._in_flight.values()]
            total, slots = free_slots(
                tenants, self.settings.max_concurrent, self.settings.max_concurrent_per_tenant
            )
            limit = min(total, self._bucket.available(self._real_seconds(now)))
            if limit <= 0:
                return 0, 0
            claimed = self.store.claim_due(
                self.owner,
                now,
                limit,
                self._lease_span,
                channels=list(self.channels),
                tenant_slots=slots,
                channel_caps=self._channel_caps,
            )
            self._bucket.take(len(claimed), self._real_seconds(now))
            for n in claimed:
                flight = _InFlight(n, now)
                thread = threading.Thread(
                    target=self._deliver, args=(flight,), name=f"attempt-{n.id}", daemon=True
                )
                flight.thread = thread
                with self._lock:
                    self._in_flight[n.id] = flight
                thread.start()
            return len(claimed), limit

    def warn_missing_channels(self) -> int:
        """Due notifications whose channel this worker lacks (e.g. SMS with no gateway) stay
        pending, so nothing is lost when the admin adds it; but say so loudly, not silently."""
        waiting = {
            channel: n
            for channel, n in self.store.due_by_channel(self.clock()).items()
            if ChannelKind(channel) not in self.channels
        }
        for channel, n in waiting.items():
            hint = _CHANNEL_HINTS.get(channel, "")
            log.warning(
                "%d due notification(s) wait for the %s channel, which this worker does not have%s",
                n,
                channel,
                hint,
            )
        requested = 0
        if self._text_sender() is None:
            requested = self.store.sms_request_counts().get(SmsRequestState.PENDING.value, 0)
            if requested:
                log.warning(
                    "%d SMS requested during calls wait for the SMS channel, which this worker "
                    "does not have (configure [sms.gateways] in cuckoo.toml)",
                    requested,
                )
        return sum(waiting.values()) + requested

    def _text_sender(self) -> TextSender | None:
        channel = self.channels.get(ChannelKind.SMS)
        return channel if isinstance(channel, TextSender) else None

    def _real_seconds(self, t: datetime) -> float:
        return t.timestamp() / self._speed

    def _deliver(self, flight: _InFlight) -> None:
        n = flight.notification
        try:
            try:
                result = self.channels[n.channel].deliver(n)
            except Exception as e:  # our side failed: retried by the policy as interrupted
                log.exception("notification %s: channel %s failed", n.id, n.channel)
                result = AttemptResult(
                    outcome=Outcome.INTERRUPTED,
                    started_at=flight.started_at,
                    ended_at=self.clock(),
                    detail=f"channel error: {type(e).__name__}: {e}",
                )
            try:
                status = self.store.finish_attempt(n, self.owner, result, self.clock())
                channel = self.channels[n.channel]
                if result.gateway_message_id and isinstance(channel, TextSender):
                    channel.row_stored(result.gateway_message_id)  # an early receipt
                log.info(
                    "notification %s attempt %d: %s → %s",
                    n.id,
                    n.attempt_no,
                    result.outcome.value,
                    status.value if status else "lease lost",
                )
            except Exception:  # the lease expires and the reaper records the attempt
                log.exception("notification %s: could not store the attempt result", n.id)
        finally:
            with self._lock:
                self._in_flight.pop(n.id, None)
                self._idle.notify_all()

    def renew_leases(self) -> int:
        with self._lock:
            ids = list(self._in_flight)
        return self.store.renew_leases(self.owner, ids, self.clock(), self._lease_span)

    def reap(self) -> int:
        n = self.store.reap_expired_leases(self.clock())
        if n:
            log.warning("reaped %d attempts of dead workers", n)
        return n

    def flush_outbox(self) -> int:
        """Send due results to their ERPs. Returns how many were acknowledged."""
        if not self.adapters:
            return 0
        now = self.clock()
        items = self.store.claim_outbox(
            now,
            self.settings.outbox_batch,
            max(60.0, self.settings.lease_s) * self._speed,
            list(self.adapters),
        )
        acked = 0
        down: set[str] = set()
        for item in items:
            if item.source in down:
                continue  # hidden for the claim lease, tried again after it
            try:
                self.adapters[item.source].report(item.report)
            except Exception as e:
                delay = backoff_delay(
                    item.tries + 1, self.settings.outbox_retry_s, self.settings.outbox_retry_max_s
                )
                self.store.outbox_failed(
                    item.id, f"{type(e).__name__}: {e}", self.clock() + timedelta(seconds=delay)
                )
                log.warning("ERP %s: report failed (%s); retry in %.0f s", item.source, e, delay)
                self._error(f"ERP {item.source}: report failed: {e}")
                if isinstance(e, ErpUnavailable):
                    down.add(item.source)
                continue
            self.store.outbox_ack(item.id, self.clock())
            acked += 1
        return acked

    def flush_sms_requests(self) -> int:
        """Send the SMS that calls' dialogs asked for (stored with their attempts). Without an
        SMS channel they wait (warn_missing_channels says so). Returns how many were sent."""
        return self._flush_sms_requests(final=False)

    def _flush_sms_requests(self, final: bool) -> int:
        sender = self._text_sender()
        if sender is None:
            return 0
        s = self.settings
        lease = s.sms_request_lease_s * self._speed
        sent = 0
        # One at a time: each lease then covers a single send, however slow the gateway.
        for _ in range(s.sms_request_batch):
            if self._stopping.is_set() and not final:
                break  # stop() sends what is left once the attempts are over
            claimed = self.store.claim_sms_requests(self.clock(), 1, lease)
            if not claimed:
                break
            r = self._send_requested(sender, claimed[0])
            sent += int(r.outcome == Outcome.SENT)
            if r.outcome == Outcome.NETWORK:
                break  # the gateway is down: the others would wait for it too
        return sent

    def _send_requested(self, sender: TextSender, item: SmsRequestItem) -> AttemptResult:
        s = self.settings
        n = item.notification
        where = f"notification {n.id} attempt {n.attempt_no}"
        try:
            r = sender.send_text(n, item.text)
        except Exception as e:  # a channel bug: keep the request, try again later
            log.exception("%s: sending the requested SMS failed", where)
            self._error(f"{where}: sending the requested SMS failed: {type(e).__name__}: {e}")
            now = self.clock()
            r = AttemptResult(
                Outcome.NETWORK, now, now, detail=f"SMS channel error: {type(e).__name__}: {e}"
            )
        now = self.clock()
        tries = item.tries + 1
        if r.outcome == Outcome.SENT:
            self.store.sms_request_sent(item.id, r.gateway_message_id, r.detail, now)
            sender.row_stored(r.gateway_message_id)
            log.info("%s: requested SMS sent to %s (%s)", where, n.phone, r.detail)
        elif r.outcome == Outcome.NETWORK and tries < s.sms_request_max_tries:
            delay = backoff_delay(tries, s.sms_request_retry_s, s.sms_request_retry_max_s)
            self.store.sms_request_retry(item.id, r.detail, now + timedelta(seconds=delay))
            log.warning("%s: requested SMS not sent (%s); retry in %.0f s", where, r.detail, delay)
        else:
            why = r.detail
            if r.outcome == Outcome.NETWORK:
                why = f"gave up after {tries} tries: {r.detail}"
            self.store.sms_request_failed(item.id, why, now)
            log.warning("%s: requested SMS to %s failed: %s", where, n.phone, why)
        return r

    # ---- running ---------------------------------------------------------------------------

    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no attempt is in flight; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._in_flight, timeout=timeout)

    def drain(self, timeout: float) -> int:
        """Dispatch until nothing due is left, within the caps (waiting on the wall clock for
        free slots and tokens). Returns how many attempts were started."""
        end = time.monotonic() + timeout
        started = 0
        while time.monotonic() < end and not self._stopping.is_set():
            claimed, allowed = self._dispatch()
            started += claimed
            if claimed:
                continue
            if allowed and not self.in_flight():
                break  # room to dispatch, nothing claimed, nothing running: none due
            # Full (caps, tokens) or a tenant at its cap: wait for an attempt or a token.
            if self.in_flight():
                self.wait_idle(0.05)
            else:
                time.sleep(0.05)
        return started

    def run_once(self, timeout: float | None = None) -> CycleReport:
        """One cycle: poll, reap, dispatch everything due now (within the caps), wait for the
        attempts, send the SMS they asked for, flush the outbox."""
        report = CycleReport()
        self._cycle_errors = report.errors  # ERP fetch / write-back failures land here too
        try:
            report.ingested = self.poll()
            report.reaped = self.reap()
            report.dispatched = self.drain(600.0 if timeout is None else timeout)
            self.warn_missing_channels()
            if not self.wait_idle(timeout):
                report.errors.append(f"{self.in_flight()} attempts still running after {timeout} s")
            report.sms_sent = self.flush_sms_requests()  # asked for by the calls just finished
            report.reported = self.flush_outbox()
        finally:
            self._cycle_errors = None
        return report

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        s = self.settings
        aps = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        first = utcnow()
        jobs: list[tuple[Callable[[], int], float]] = [
            (self.poll, s.poll_interval_s),
            (self.dispatch, s.dispatch_interval_s),
            (self.flush_outbox, s.outbox_interval_s),
            (self.flush_sms_requests, s.sms_request_interval_s),
            (self.reap, s.reap_interval_s),
            (self.renew_leases, max(0.5, s.lease_s / 3)),
            (self.warn_missing_channels, 300.0),
        ]
        for func, every in jobs:
            aps.add_job(
                _logged(func),
                "interval",
                seconds=every,
                next_run_time=first,
                id=func.__name__,
                name=func.__name__,
            )
        aps.start()
        self._aps = aps
        log.info("worker %s started", self.owner)

    def stop(self, grace_s: float | None = None) -> int:
        """Stop dispatching, wait for attempts in flight up to the grace period, record the rest
        as interrupted, flush what can be reported. Returns how many were interrupted."""
        self._stopping.set()
        aps = self._aps
        if aps is not None:
            aps.shutdown(wait=True)  # type: ignore[attr-defined]
            self._aps = None
        grace = self.settings.shutdown_grace_s if grace_s is None else grace_s
        if not self.wait_idle(grace):
            log.warning("%d attempts still running after %.0f s", self.in_flight(), grace)
        with self._lock:
            left = [f.notification for f in self._in_flight.values()]
        interrupted = 0
        for n in left:
            why = f"worker {self.owner} shut down during the attempt"
            interrupted += self.store.interrupt(n, self.owner, self.clock(), why)
        try:
            # The customers of the calls just finished were told an SMS is coming.
            self._flush_sms_requests(final=True)
        except Exception:
            log.exception("final send of requested SMS failed; the next worker will send them")
        try:
            self.flush_outbox()
        except Exception:
            log.exception("final outbox flush failed; the next worker will send it")
        log.info("worker %s stopped", self.owner)
        return interrupted


def _logged(func: Callable[[], int]) -> Callable[[], None]:
    """A job that logs its exception instead of letting APScheduler swallow the traceback."""

    def job() -> None:
        try:
            func()
        except Exception:
            log.exception("job %s failed; it runs again next interval", func.__name__)

    job.__name__ = func.__name__
    return job
