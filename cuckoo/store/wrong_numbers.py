"""Wrong numbers: (tenant, phone, customer) where somebody else answered («вы не туда попали»).

Not a block of the number: it may be right for another customer, or belong to somebody new by
now. So the store remembers the pair, one `WrongNumberRow` each, and never calls nor texts that
customer at that number again; other customers at the same number are called as usual.

Who "the customer" is (`cuckoo.intake.customers.customer_key`): the ERP's `customer_id`
variable when it sends one ("id:42"); else the customer's name — the `customer` mapping's
`last_name` / `first_name` / `patronymic`, or `customer` as a plain string, or else the
top-level `last_name` / `first_name` / `patronymic` — lower case, «ё» as «е», punctuation
dropped, each word once, sorted ("name:иван петрович"); else "" (the nameless customer of that
number: only other nameless notifications to it are held back).

Who reads and writes it (every function takes the caller's session, i.e. runs in its
transaction):
- finishing an attempt with outcome wrong_number (`record`, in the same transaction): the pair
  is recorded and the other PENDING notifications of that customer at that number end
  WRONG_NUMBER at once, each reported to its ERP (outbox);
- intake: a new notification for a recorded pair is stored WRONG_NUMBER and reported at once,
  never dialled (`known_among`, once per chunk, handed to the pure `admit`);
- claiming: a pending notification whose pair was recorded meanwhile (e.g. it was being called
  by another worker when `record` ran) ends WRONG_NUMBER instead of being called
  (`known_among`, once per page of due rows);
- `cuckoo unblock --wrong-number PHONE [--tenant T]` (`forget`): a manager fixed the number.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cuckoo.domain import Status
from cuckoo.intake.admission import WrongNumber, wrong_number_reason
from cuckoo.intake.customers import customer_key
from cuckoo.store import outbox
from cuckoo.store.models import NotificationRow, WrongNumberRow

__all__ = ["count", "forget", "known_among", "pair_of", "record"]


def pair_of(row: NotificationRow) -> WrongNumber:
    """The (tenant, phone, customer) of a stored notification."""
    return (row.tenant, row.phone, customer_key(row.variables or {}))


def record(s: Session, row: NotificationRow, now: datetime) -> int:
    """Remember that `row`'s number is not its customer's, and end the other pending
    notifications of that customer at that number as WRONG_NUMBER, reported to their ERPs.
    Returns how many others were ended. A row without a number records nothing."""
    if not row.phone:
        return 0
    tenant, phone, customer = pair_of(row)
    if s.get(WrongNumberRow, (tenant, phone, customer)) is None:
        found = f"{row.source}/{row.external_id}"
        try:
            with s.begin_nested():
                s.add(
                    WrongNumberRow(
                        tenant=tenant, phone=phone, customer=customer, reason=found, created_at=now
                    )
                )
                s.flush()
        except IntegrityError:
            pass  # another worker recorded the same pair a moment ago
    others = s.scalars(
        select(NotificationRow).where(
            NotificationRow.phone == phone,
            NotificationRow.tenant == tenant,
            NotificationRow.status == Status.PENDING.value,
            NotificationRow.id != row.id,
        )
    )
    why = f"{wrong_number_reason(phone)}; answered so in {row.source}/{row.external_id}"
    ended = 0
    for other in list(others):
        if customer_key(other.variables or {}) != customer:
            continue  # another customer at the same number: called as usual
        res = s.execute(
            update(NotificationRow)
            .where(NotificationRow.id == other.id, NotificationRow.status == Status.PENDING.value)
            .values(
                status=Status.WRONG_NUMBER.value, next_attempt_at=None, detail=why, updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
        if res.rowcount:  # type: ignore[attr-defined]
            other.status, other.detail, other.next_attempt_at = Status.WRONG_NUMBER.value, why, None
            outbox.enqueue(s, other, Status.WRONG_NUMBER, None, None, now)
            ended += 1
    return ended


def known_among(s: Session, phones: Collection[str]) -> set[WrongNumber]:
    """The recorded (tenant, phone, customer) pairs of these numbers (one query; empty strings
    are ignored)."""
    wanted = {p for p in phones if p}
    if not wanted:
        return set()
    q = select(WrongNumberRow.tenant, WrongNumberRow.phone, WrongNumberRow.customer).where(
        WrongNumberRow.phone.in_(wanted)
    )
    return {(t, p, c) for t, p, c in s.execute(q)}


def forget(s: Session, e164: str, tenant: str | None = None) -> int:
    """Forget the wrong numbers recorded for this number (of one tenant, or of all); returns
    how many pairs were forgotten. Notifications already ended WRONG_NUMBER stay ended: the
    ERP sends a new one once it has fixed the number."""
    q = delete(WrongNumberRow).where(WrongNumberRow.phone == e164)
    if tenant is not None:
        q = q.where(WrongNumberRow.tenant == tenant)
    return int(s.execute(q).rowcount)  # type: ignore[attr-defined]


def count(s: Session) -> int:
    """How many (tenant, phone, customer) pairs are recorded."""
    return int(s.scalar(select(func.count()).select_from(WrongNumberRow)) or 0)
