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

No result is lost to a store outage: each attempt's result goes into the journal
(cuckoo.worker.journal, fsync'ed) before the store, and stays there until the store took it; the
journal is replayed at start and before every job once the store answers again, so no job reaps
or re-dials a notification whose result is still waiting. While the store is down
(StoreUnavailable) the jobs pause with back-off (cuckoo.worker.outage): one WARNING when it goes,
one INFO when it is back.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from cuckoo.clock import Clock, utcnow
from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.domain import (
    AttemptResult,
    Channel,
    ChannelKind,
    ErpAdapter,
    ListsAllPending,
    Notification,
    Outcome,
)
from cuckoo.errors import CuckooError, ErpUnavailable, StoreUnavailable
from cuckoo.logs import notification_context
from cuckoo.policy.ratelimit import TokenBucket
from cuckoo.policy.withdrawals import withdrawn
from cuckoo.store import SmsRequestItem, SmsRequestState, Store
from cuckoo.worker.journal import Entry, Journal
from cuckoo.worker.outage import Outage, backoff_delay

__all__ = ["CycleReport", "Scheduler", "TextSender", "backoff_delay", "free_slots"]

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
    "call": " (configure [telephony.trunk] domain or [telephony.trunks.NAME] in cuckoo.toml)",
}


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
    # open notifications the last poll did not list (cuckoo.policy.withdrawals)
    unlisted: set[str] = field(default_factory=set)


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
        journal: Journal | None = None,
        retention_days: int = 0,
    ) -> None:
        self.store = store
        self.retention_days = retention_days  # [store] retention_days; 0: keep everything
        # Results not yet in the store; in memory only unless the worker gives it a folder.
        self.journal = journal if journal is not None else Journal(None)
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
        self._conflicts_said: set[str] = set()  # ERP rows that reuse an id: warned once
        cluster_calls = self.settings.cluster_max_calls
        self._channel_caps = {ChannelKind.CALL: cluster_calls} if cluster_calls else None
        self._stopping = threading.Event()
        self.erp_poll_errors: dict[str, int] = {}  # by adapter, since start (/metrics)
        self._aps: object | None = None
        self._started_at = time.monotonic()
        self._last_dispatch: float | None = None  # time.monotonic() of the last dispatch run
        self._cycle_errors: list[str] | None = None  # collected while run_once runs
        self._outage = Outage(self.settings.store_retry_s, self.settings.store_retry_max_s)
        self._storing: set[str] = set()  # journal keys a thread is storing right now
        self._stuck: set[str] = set()  # journal keys the store refused (logged once)
        self._replay_lock = threading.Lock()
        store.watch(self._store_seen)

    def _store_seen(self, down: StoreUnavailable | None) -> None:
        """After every store transaction: open or close an outage, saying so once."""
        now = time.monotonic()
        if down is None:
            lasted = self._outage.succeeded(now)
            if lasted is not None:
                log.info(
                    "the store is back after %.1f s; %d result(s) in the journal to store",
                    lasted,
                    len(self.journal),
                )
        elif self._outage.failed(now):
            log.warning(
                "the store is unavailable (%s): jobs pause, results wait in the journal %s; "
                "trying again with back-off up to %.0f s",
                down,
                self.journal.path or "(in memory)",
                self._outage.max_s,
            )
        else:
            log.debug("the store is still unavailable (%s)", down)

    def store_available(self) -> bool:
        """False while backing off after the store was found down."""
        return self._outage.may_try(time.monotonic())

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
                self.erp_poll_errors[name] = self.erp_poll_errors.get(name, 0) + 1
                delay = backoff_delay(
                    state.failures, self.settings.erp_retry_s, self.settings.erp_retry_max_s
                )
                state.next_poll_at = now + timedelta(seconds=delay)
                # down: retried; a ConfigError: the set-up; anything else: the adapter's bug
                level = logging.WARNING if isinstance(e, ErpUnavailable) else logging.ERROR
                log.log(
                    level,
                    "ERP %s: fetch failed (%s); next try in %.0f s",
                    name,
                    e,
                    delay,
                    exc_info=not isinstance(e, CuckooError),
                )
                self._error(f"ERP {name}: fetch failed: {e}")
                continue
            state.failures, state.next_poll_at = 0, None
            report = self.store.ingest(items, self.clock())
            stored += report.stored
            for err in report.errors:
                log.warning("ERP %s: rejected %s", name, err)
            for conflict in report.conflicts:
                if conflict not in self._conflicts_said:  # the ERP lists it every poll
                    self._conflicts_said.add(conflict)
                    log.warning("ERP %s: %s", name, conflict)
            if report.new:
                log.info("ERP %s: %d new notifications", name, report.new)
            if isinstance(adapter, ListsAllPending):
                listed = adapter.listed_ids()
                if listed is not None:
                    self._withdraw(name, state, listed)
        return stored

    def _withdraw(self, name: str, state: _ErpState, listed: Collection[str]) -> None:
        """Cancel what the ERP stopped listing two polls in a row (policy.withdrawals)."""
        now_gone, state.unlisted = withdrawn(
            self.store.open_external_ids(name), listed, state.unlisted
        )
        if now_gone:
            self.store.withdraw(name, now_gone, self.clock())

    def dispatch(self) -> int:
        """Claim what is due (within the caps) and start an attempt for each. Returns how many."""
        try:
            return self._dispatch()[0]
        finally:
            self._last_dispatch = time.monotonic()  # a heartbeat, failed or not: see health()

    def health(self, stall_s: float | None = None) -> str | None:
        """None while the running scheduler's dispatch job keeps finishing; else what is wrong
        (the systemd watchdog stops being pinged, and systemd restarts the worker). A dispatch
        job is stalled after `stall_s`, by default 3 dispatch intervals but at least 30 s (a
        claim may wait out another process's SQLite write lock)."""
        aps = self._aps
        if aps is None or not getattr(aps, "running", False):
            return "the scheduler is not running"
        last = self._last_dispatch
        limit = stall_s if stall_s is not None else max(30.0, 3 * self.settings.dispatch_interval_s)
        if last is None:
            return None if time.monotonic() - self._started_at < limit else "no dispatch yet"
        silent = time.monotonic() - last
        return None if silent < limit else f"the dispatch job has not finished for {silent:.0f} s"

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
        with notification_context(n.id, n.tenant, n.attempt_no):  # on every line of the attempt
            self._attempt(flight)

    def _attempt(self, flight: _InFlight) -> None:
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
            entry = Entry(self.owner, n, result, self.clock())
            with self._lock:
                self._storing.add(entry.key)
            try:
                self.journal.record(entry)  # durable before the store is tried
                if self.store_available():
                    self._store_result(entry)
            finally:
                with self._lock:
                    self._storing.discard(entry.key)
        finally:
            with self._lock:
                self._in_flight.pop(n.id, None)
                self._idle.notify_all()

    def _store_result(self, entry: Entry) -> bool:
        """Hand one result to the store; True once it took it (then it leaves the journal)."""
        n, result = entry.notification, entry.result
        where = f"notification {n.id} attempt {n.attempt_no}"
        try:
            status = self.store.finish_attempt(n, entry.owner, result, self.clock())
        except StoreUnavailable:
            return False  # _store_seen has said so; the journal keeps it
        except LookupError as e:  # the store lost the row (restored from an old backup?)
            log.error("%s: %s; its result is dropped from the journal", where, e)
            self.journal.done(entry.key)
            return False
        except Exception:
            if entry.key not in self._stuck:
                self._stuck.add(entry.key)
                log.exception(
                    "%s: could not store the attempt result; it stays in the journal %s",
                    where,
                    self.journal.path or "(in memory)",
                )
            return False
        self.journal.done(entry.key)
        self._stuck.discard(entry.key)
        channel = self.channels.get(n.channel)
        if result.gateway_message_id and isinstance(channel, TextSender):
            channel.row_stored(result.gateway_message_id)  # an early receipt
        log.log(
            logging.INFO if status else logging.WARNING,
            "%s: %s → %s",
            where,
            result.outcome.value,
            status.value if status else "lease lost, kept on the attempt",
        )
        return True

    def replay_journal(self, wait: bool = False) -> int:
        """Store the results waiting in the journal, oldest first, while the store takes them.
        Returns how many it took. `wait`: if another thread is replaying, wait for it and then
        replay what is left, instead of returning at once."""
        if not self._replay_lock.acquire(blocking=wait):
            return 0  # another job is replaying
        try:
            stored = 0
            for entry in self.journal.pending():
                if not self.store_available():
                    break
                with self._lock:
                    if entry.key in self._storing:
                        continue  # its attempt's thread is storing it
                    self._storing.add(entry.key)
                try:
                    stored += self._store_result(entry)
                finally:
                    with self._lock:
                        self._storing.discard(entry.key)
            if stored:
                log.info("stored %d result(s) from the journal", stored)
            return stored
        finally:
            self._replay_lock.release()

    def renew_leases(self) -> int:
        """Extend the leases of the attempts in flight and of the results still waiting in the
        journal, so no reaper takes them for a dead worker's."""
        with self._lock:
            by_owner: dict[str, set[int]] = {self.owner: set(self._in_flight)}
        for e in self.journal.pending():  # adopted results hold their dead worker's lease
            by_owner.setdefault(e.owner, set()).add(e.notification.id)
        now = self.clock()
        return sum(
            self.store.renew_leases(owner, ids, now, self._lease_span)
            for owner, ids in by_owner.items()
            if ids
        )

    def reap(self) -> int:
        # Our own leases may have run out while the store was down: renew them first, so
        # the reaper takes only dead workers' attempts.
        self.renew_leases()
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
                log.log(
                    logging.WARNING if isinstance(e, CuckooError) else logging.ERROR,
                    "ERP %s: report failed (%s); retry in %.0f s",
                    item.source,
                    e,
                    delay,
                    exc_info=not isinstance(e, CuckooError),  # the adapter's bug: its traceback
                )
                self._error(f"ERP {item.source}: report failed: {e}")
                if isinstance(e, ErpUnavailable):
                    down.add(item.source)
                continue
            self.store.outbox_ack(item.id, self.clock())
            acked += 1
        return acked

    def purge(self) -> int:
        """Purge the personal data of notifications final for longer than retention_days
        (cuckoo.store.retention), a batch at a time. Returns how many were purged."""
        before = self.clock() - timedelta(days=self.retention_days)
        done = 0
        while True:
            report = self.store.purge(before, 500)
            done += report.notifications
            for err in report.recording_errors:
                log.warning("retention: cannot delete recording %s", err)
            if report.notifications < 500:
                break
        if done:
            log.info("retention: personal data of %d notifications purged", done)
        return done

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
        n = item.notification
        with notification_context(n.id, n.tenant, n.attempt_no):
            return self._send_one_requested(sender, item)

    def _send_one_requested(self, sender: TextSender, item: SmsRequestItem) -> AttemptResult:
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
            # refused (a bad number, the text): the customer's outcome; given up: our trouble
            level = logging.WARNING if r.outcome == Outcome.NETWORK else logging.INFO
            log.log(level, "%s: requested SMS to %s failed: %s", where, n.phone, why)
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
            self.journal.open()
            self.replay_journal()  # results an earlier run could not store
            report.ingested = self.poll()
            report.reaped = self.reap()
            report.dispatched = self.drain(600.0 if timeout is None else timeout)
            self.warn_missing_channels()
            if not self.wait_idle(timeout):
                report.errors.append(f"{self.in_flight()} attempts still running after {timeout} s")
            report.sms_sent = self.flush_sms_requests()  # asked for by the calls just finished
            report.reported = self.flush_outbox()
            self.replay_journal()
            if len(self.journal):
                report.errors.append(
                    f"{len(self.journal)} result(s) could not be stored; they wait in the "
                    f"journal {self.journal.path or '(in memory)'} for the next run"
                )
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
        self.journal.open()
        first = utcnow()
        jobs: list[tuple[Callable[[], int], float]] = [
            (self.replay_journal, min(1.0, s.dispatch_interval_s)),
            (self.poll, s.poll_interval_s),
            (self.dispatch, s.dispatch_interval_s),
            (self.flush_outbox, s.outbox_interval_s),
            (self.flush_sms_requests, s.sms_request_interval_s),
            (self.reap, s.reap_interval_s),
            (self.renew_leases, max(0.5, s.lease_s / 3)),
            (self.warn_missing_channels, 300.0),
        ]
        if self.retention_days:
            jobs.append((self.purge, 3600.0))
        for func, every in jobs:
            aps.add_job(
                self._job(func),
                "interval",
                seconds=every,
                next_run_time=first,
                id=func.__name__,
                name=func.__name__,
            )
        self._started_at = time.monotonic()
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
        self.replay_journal()
        interrupted = 0
        for n in left:
            why = f"worker {self.owner} shut down during the attempt"
            try:
                interrupted += self.store.interrupt(n, self.owner, self.clock(), why)
            except StoreUnavailable:
                break  # its lease runs out and a reaper records it
        if self.store_available():  # else the next worker sends and reports what is left
            self._final_flush()
        if len(self.journal):
            log.warning(
                "%d result(s) could not be stored; they wait in the journal %s and are stored "
                "when a worker starts with this var_dir",
                len(self.journal),
                self.journal.path or "(in memory: lost with this process)",
            )
        log.info("worker %s stopped", self.owner)
        return interrupted

    def _final_flush(self) -> None:
        try:
            # The customers of the calls just finished were told an SMS is coming.
            self._flush_sms_requests(final=True)
        except Exception:
            log.exception("final send of requested SMS failed; the next worker will send them")
        try:
            self.flush_outbox()
        except Exception:
            log.exception("final outbox flush failed; the next worker will send it")

    def _job(self, func: Callable[[], int]) -> Callable[[], None]:
        """A scheduled job: skipped while backing off from a store outage; stores what waits
        in the journal before it runs (a job must not reap or re-dial a notification whose
        result is waiting); logs its exception instead of letting APScheduler swallow it."""

        def job() -> None:
            if not self.store_available():
                return
            try:
                if func != self.replay_journal and len(self.journal):
                    self.replay_journal(wait=True)
                    if not self.store_available():
                        return
                func()
            except StoreUnavailable:
                pass  # _store_seen said so once; the job runs again after the back-off
            except Exception:
                log.exception("job %s failed; it runs again next interval", func.__name__)

        job.__name__ = func.__name__
        return job
