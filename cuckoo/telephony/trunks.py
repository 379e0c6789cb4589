"""The trunk pool of the process that places calls: which trunk and caller id a call gets,
and what a call's report says about its trunk (the decisions are cuckoo.policy.trunks)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cuckoo.config.telephony import TelephonySettings, TrunkSettings
from cuckoo.domain import Outcome
from cuckoo.line.leg import CallReport
from cuckoo.policy.trunks import TrunkBook, TrunkSpec, caller_id_for, trunk_failed
from cuckoo.telephony.dialplan import caller_uri, target_uri

log = logging.getLogger(__name__)

DEFAULT = "default"  # the name of the one-trunk form ([telephony.trunk])


@dataclass(frozen=True)
class Route:
    """Where one call attempt goes."""

    trunk: str  # the trunk's name ("default" for [telephony.trunk])
    engine_account: str  # the engine's account for it ("" the default account)
    uri: str
    from_uri: str  # "" the account's own


class NoTrunk(Exception):
    """No trunk can take this call now (why in the message)."""


class TrunkPool:
    """Thread-safe: the scheduler's delivery threads share one."""

    def __init__(
        self, settings: TelephonySettings, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.trunks: dict[str, TrunkSettings] = settings.trunk_pool
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._book = TrunkBook.of(
            (
                TrunkSpec(name, t.priority, t.max_calls, tuple(t.tenants))
                for name, t in self.trunks.items()
            ),
            failures=settings.failover.failures,
            cooldown_s=settings.failover.cooldown_s,
        )

    def acquire(
        self, phone: str, tenant: str, *, skip: tuple[str, ...] = (), wait_s: float = 3600.0
    ) -> Route:
        """A route through the first trunk that can take the call, waiting for a free channel;
        NoTrunk when none can. Raises InputError for a number no trunk can dial. Give the
        route back with `release`."""
        deadline = self._monotonic() + wait_s
        with self._cond:
            while True:
                pick = self._book.pick(tenant, self._monotonic(), skip=skip)
                if pick.trunk is not None:
                    name = pick.trunk
                    break
                if pick.why_not != "busy" or self._monotonic() > deadline:
                    raise NoTrunk(f"{pick.why_not} for tenant {tenant!r} ({self._summary()})")
                self._cond.wait(0.2)
        try:
            return self._route(name, phone, tenant)
        except Exception:
            self.release(name)
            raise

    def _route(self, name: str, phone: str, tenant: str) -> Route:
        trunk = self.trunks[name]
        uri = target_uri(phone, self.settings, trunk)
        pool = self.settings.caller_ids.get(tenant) or trunk.caller_ids
        number = caller_id_for(phone, pool)
        return Route(
            trunk=name,
            engine_account="" if name == DEFAULT and not self.settings.trunks else name,
            uri=uri,
            from_uri=caller_uri(number, trunk, self.settings),
        )

    def release(self, name: str) -> None:
        with self._cond:
            self._book.release(name)
            self._cond.notify_all()

    def report(self, name: str, r: CallReport) -> bool:
        """Learn from a finished call through `name`. True: it failed because of the trunk
        (the call may go to the next one)."""
        failed = trunk_failed(
            answered=r.answered_at is not None,
            sip_code=r.sip_code,
            network=r.outcome == Outcome.NETWORK,
            local=r.local_failure,
            no_response=r.no_response,
        )
        with self._cond:
            taken_out = self._book.record(name, failed=failed, now=self._monotonic())
            self._cond.notify_all()
        if taken_out:
            log.warning(
                "trunk %s taken out of service for %.0f s after %d failures in a row (%s)",
                name,
                self.settings.failover.cooldown_s,
                self.settings.failover.failures,
                r.detail or r.sip_code,
            )
        return failed

    def registration(self, engine_account: str, code: int) -> None:
        """A REGISTER answer of a worker's account for a trunk."""
        name = engine_account or DEFAULT
        ok = 200 <= code < 300
        with self._cond:
            known = name in self._book.trunks
            was = self._book.trunks[name].registered if known else ok
            self._book.registration(name, ok)
            self._cond.notify_all()
        if known and was != ok:
            if ok:
                log.info("trunk %s registered again", name)
            else:
                log.warning("trunk %s lost its registration (%s): calls go elsewhere", name, code)

    def has_alternative(self, tenant: str, tried: tuple[str, ...]) -> bool:
        with self._cond:
            return any(t.name not in tried for t in self._book.candidates(tenant))

    def status(self) -> dict[str, str]:
        with self._cond:
            return dict(self._book.status(self._monotonic()))

    def _summary(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self._book.status(self._monotonic()).items())
