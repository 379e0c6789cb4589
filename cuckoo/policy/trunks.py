"""Which trunk a call goes through, and which number the customer sees. Pure: no SIP here.

- Trunks are tried by priority (lower first) among those that carry the tenant, have a free
  channel and are in service. A trunk that fails `failures` times in a row (no SIP response,
  408, 5xx, refused credentials, a lost registration) rests for `cooldown_s`; any other
  answer (busy included) proves it works. A single trunk is never taken out: there is nothing
  to fail over to, and refusing calls would only hide the trouble.
- A customer always sees the same caller id: the pool's number chosen by rendezvous hashing
  on the customer's phone, so adding a number to the pool moves only ~1/n of the customers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# SIP finals that say the trunk (not the customer's line) is in trouble. 503 from a carrier is
# most often its own overload; 401/407 here means it refused our credentials after the retry.
TRUNK_TROUBLE_CODES = frozenset({401, 403, 407, 408, 500, 502, 503, 504})


def trunk_failed(
    *, answered: bool, sip_code: int | None, network: bool, local: bool, no_response: bool = False
) -> bool:
    """Did this call attempt fail because of the trunk? `network`: the attempt's outcome was
    a network problem; `local`: our own side refused to place it (no free slot, a bad URI),
    which says nothing about the trunk; `no_response`: not even 100 Trying came back (our
    CANCEL then ends it with a code of pjsip's own, which says nothing either)."""
    if answered or local:
        return False
    if no_response:
        return True
    if sip_code is None:
        return network  # no final response at all: nobody answered at the trunk's address
    return sip_code in TRUNK_TROUBLE_CODES


def caller_id_for(phone: str, pool: Sequence[str]) -> str:
    """The pool's number this customer sees; "" for an empty pool."""
    if not pool:
        return ""

    def weight(number: str) -> bytes:
        return hashlib.sha256(f"{phone}\x00{number}".encode()).digest()

    return max(pool, key=weight)


@dataclass
class TrunkState:
    name: str
    priority: int
    max_calls: int  # 0: no limit
    tenants: frozenset[str]  # empty: every tenant
    in_use: int = 0
    failures_in_row: int = 0
    out_until: float = 0.0  # monotonic seconds; in service when now >= out_until
    registered: bool = True  # False while its registration is lost

    def carries(self, tenant: str) -> bool:
        return not self.tenants or tenant in self.tenants

    def in_service(self, now: float) -> bool:
        return self.registered and now >= self.out_until

    def has_channel(self) -> bool:
        return self.max_calls == 0 or self.in_use < self.max_calls


@dataclass(frozen=True)
class TrunkSpec:
    name: str
    priority: int = 0
    max_calls: int = 0
    tenants: tuple[str, ...] = ()


@dataclass
class TrunkBook:
    """The state of every trunk, kept by the process that places calls (not thread safe: the
    caller holds a lock)."""

    failures: int
    cooldown_s: float
    trunks: dict[str, TrunkState] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: Iterable[TrunkSpec], *, failures: int, cooldown_s: float) -> TrunkBook:
        book = cls(failures, cooldown_s)
        for s in specs:
            book.trunks[s.name] = TrunkState(s.name, s.priority, s.max_calls, frozenset(s.tenants))
        return book

    def candidates(self, tenant: str) -> list[TrunkState]:
        """The tenant's trunks in the order to try them (priority, then name)."""
        mine = [t for t in self.trunks.values() if t.carries(tenant)]
        return sorted(mine, key=lambda t: (t.priority, t.name))

    def pick(self, tenant: str, now: float, *, skip: Iterable[str] = ()) -> PickResult:
        """The trunk for the next call: the first in service with a free channel. `skip`:
        trunks this call already failed on."""
        skipped = set(skip)
        mine = [t for t in self.candidates(tenant) if t.name not in skipped]
        if not mine:
            return PickResult(None, "no trunk" if not skipped else "every trunk failed")
        single = len(self.candidates(tenant)) == 1
        usable = [t for t in mine if single or t.in_service(now)]
        if not usable:
            return PickResult(None, "every trunk is out of service")
        free = [t for t in usable if t.has_channel()]
        if not free:
            return PickResult(None, "busy")  # wait for a channel
        chosen = free[0]
        chosen.in_use += 1
        return PickResult(chosen.name, "")

    def release(self, name: str) -> None:
        t = self.trunks.get(name)
        if t is not None and t.in_use > 0:
            t.in_use -= 1

    def record(self, name: str, *, failed: bool, now: float) -> bool:
        """The outcome of a call through `name`. True when this failure took it out."""
        t = self.trunks.get(name)
        if t is None:
            return False
        if not failed:
            t.failures_in_row = 0
            t.out_until = 0.0
            return False
        t.failures_in_row += 1
        if t.failures_in_row >= self.failures and now >= t.out_until:
            t.out_until = now + self.cooldown_s
            t.failures_in_row = 0  # after the rest it gets `failures` chances again
            return True
        return False

    def registration(self, name: str, ok: bool) -> None:
        t = self.trunks.get(name)
        if t is not None:
            t.registered = ok

    def status(self, now: float) -> Mapping[str, str]:
        """Each trunk's state in words (logs, `/metrics`)."""
        out = {}
        for t in self.trunks.values():
            if not t.registered:
                out[t.name] = "registration lost"
            elif now < t.out_until:
                out[t.name] = f"out of service for {t.out_until - now:.0f} s"
            else:
                out[t.name] = f"in service, {t.in_use} call(s)"
        return out


@dataclass(frozen=True)
class PickResult:
    trunk: str | None
    why_not: str  # when trunk is None: "busy" (wait), or why no trunk can take it
