"""Storing new notifications from the ERPs. What each row becomes is decided by
`cuckoo.intake.admission.admit`; this module persists it.

What it persists, per row not seen before:
- admitted → a PENDING `NotificationRow` due at its first attempt;
- rejected → a row with its final status (INVALID, BLOCKED, WRONG_NUMBER, EXPIRED) and the
  reason as detail, plus an outbox report in the same transaction, so its ERP hears why at once;
  the reason is also in `IngestReport.errors`. A bad row never stops the others.
  With `keep_rejected=False` (a row typed by hand, `cuckoo notify add`: there is no ERP to tell,
  the person at the keyboard is told instead) a rejected row is not stored at all; the verdict
  is in `IngestReport.rejected` and the reason in `errors` as above.

Rules it guarantees:
- Idempotent by (source, external_id): a row seen before is counted as a duplicate and left as
  it is, whatever it says now. Two workers storing the same row at once: the unique constraint
  lets one win; the other counts a duplicate (its insert runs in a savepoint).
- Rows go in chunks of 500, one transaction each: a chunk is stored whole or not at all
  (SQLite: under BEGIN IMMEDIATE), and a large batch does not hold the write lock throughout.
- The do-not-call list and the recorded wrong numbers (cuckoo.store.wrong_numbers) are read
  once per chunk (the numbers of the chunk, normalized) and handed to `admit`, which stays
  pure; a row the database refuses (e.g. an id longer than its column) is counted invalid
  with the database's reason, and nothing is stored for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from cuckoo.domain import IncomingNotification, Status
from cuckoo.errors import InputError
from cuckoo.intake.admission import AdmissionContext, Admitted, Rejected, admit
from cuckoo.intake.phones import normalize_phone
from cuckoo.store import blocklist, outbox, wrong_numbers
from cuckoo.store.database import Database
from cuckoo.store.models import NotificationRow

__all__ = ["CHUNK", "IngestReport", "ingest"]

CHUNK = 500  # rows per transaction


@dataclass
class IngestReport:
    new: int = 0
    duplicates: int = 0
    invalid: int = 0
    blocked: int = 0
    wrong_number: int = 0  # a recorded wrong number for this customer: never dialled
    expired: int = 0  # the deadline comes before the first possible attempt
    errors: list[str] = field(default_factory=list)  # "source/external_id: why"
    rejected: list[Rejected] = field(default_factory=list)  # admission's verdicts, in order
    # A row under an id stored before, with another phone: ignored, and said (not silent)
    conflicts: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        """Rows stored this time, admitted or not (duplicates and refused rows are not)."""
        return self.new + self.invalid + self.blocked + self.wrong_number + self.expired


def ingest(
    db: Database,
    items: Sequence[IncomingNotification],
    now: datetime,
    context: AdmissionContext,
    *,
    keep_rejected: bool = True,
) -> IngestReport:
    """Store new notifications; rows seen before are skipped. A bad row is stored as
    INVALID, BLOCKED, WRONG_NUMBER or EXPIRED with a report for its ERP (unless `keep_rejected`
    is False: then it is not stored) and never stops the other rows."""
    report = IngestReport()
    for start in range(0, len(items), CHUNK):
        with db.tx() as s:
            _store_chunk(s, items[start : start + CHUNK], now, context, report, keep_rejected)
    return report


def preview(
    db: Database,
    items: Sequence[IncomingNotification],
    now: datetime,
    context: AdmissionContext,
) -> list[tuple[IncomingNotification, Admitted | Rejected | None]]:
    """What `ingest` would make of `items`, writing nothing (a dry run): each item with its
    verdict, None for one stored already."""
    out: list[tuple[IncomingNotification, Admitted | Rejected | None]] = []
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        with db.tx() as s:
            seen = _stored_keys(s, chunk)
            numbers = _numbers(chunk, context)
            here = replace(
                context,
                blocked=blocklist.blocked_among(s, numbers),
                wrong_numbers=wrong_numbers.known_among(s, numbers),
            )
        for item in chunk:
            key = (item.source, item.external_id)
            out.append((item, None if key in seen else admit(item, here, now)))
            seen.setdefault(key, item.phone)
    return out


def _store_chunk(
    s: Session,
    items: Sequence[IncomingNotification],
    now: datetime,
    context: AdmissionContext,
    report: IngestReport,
    keep_rejected: bool,
) -> None:
    seen = _stored_keys(s, items)
    numbers = _numbers(items, context)
    context = replace(
        context,
        blocked=blocklist.blocked_among(s, numbers),
        wrong_numbers=wrong_numbers.known_among(s, numbers),
    )
    built: list[_Built] = []
    for item in items:
        key = (item.source, item.external_id)
        if key in seen:
            report.duplicates += 1
            if seen[key] != item.phone:  # not the same row again: another one under its id
                report.conflicts.append(
                    f"{item.source}/{item.external_id}: stored before with phone "
                    f"{seen[key]!r}; this row's phone {item.phone!r} is ignored (a new "
                    "notification needs a new id)"
                )
            continue
        seen[key] = item.phone
        verdict = admit(item, context, now)
        if isinstance(verdict, Admitted):
            status, next_at, why = Status.PENDING, verdict.next_attempt_at, ""
        else:
            status, next_at, why = verdict.status, None, verdict.reason
            report.rejected.append(verdict)
            if not keep_rejected:
                _count_rejected(report, status)
                report.errors.append(f"{item.source}/{item.external_id}: {why}")
                continue
        keep_times = status != Status.INVALID  # an INVALID row's times may be naive
        row = NotificationRow(
            source=item.source,
            external_id=item.external_id,
            tenant=item.tenant,
            phone=verdict.phone,
            phone_raw=item.phone,
            channel=verdict.channel.value,
            current_channel=verdict.first_channel.value,
            scenario=item.scenario,
            variables=verdict.variables,
            not_before=item.not_before if keep_times else None,
            deadline=item.deadline if keep_times else None,
            consent=item.consent,
            timezone=verdict.timezone,
            status=status.value,
            next_attempt_at=next_at,
            detail=why,
            created_at=now,
            updated_at=now,
        )
        built.append((item, row, status, why))
    for item, row, status, why in _insert(s, built, report):
        if status == Status.PENDING:
            report.new += 1
            continue
        _count_rejected(report, status)
        report.errors.append(f"{item.source}/{item.external_id}: {why}")
        outbox.enqueue(s, row, status, None, None, now)


_Built = tuple[IncomingNotification, NotificationRow, Status, str]


def _insert(s: Session, built: list[_Built], report: IngestReport) -> list[_Built]:
    """Insert the chunk's rows: in one statement when none fails (the common case), else one
    by one, so a row another worker stored meanwhile, or one the database refuses, costs only
    itself. Returns the rows stored."""
    if not built:
        return []
    try:
        with s.begin_nested():
            s.add_all([row for _, row, _, _ in built])
            s.flush()
        return built
    except (OperationalError, InterfaceError):
        raise  # the database is down or full, not a row: nothing of the chunk is stored
    except SQLAlchemyError:
        pass  # some row is refused: find which, keep the others
    stored: list[_Built] = []
    for entry in built:
        item, row = entry[0], entry[1]
        try:
            with s.begin_nested():
                s.add(row)
                s.flush()
        except IntegrityError:
            report.duplicates += 1  # another worker stored it a moment ago
            continue
        except (OperationalError, InterfaceError):
            raise
        except SQLAlchemyError as e:  # e.g. an id longer than the column
            report.invalid += 1
            why = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
            report.errors.append(f"{item.source}/{item.external_id}: cannot store: {why}")
            continue
        stored.append(entry)
    return stored


def _count_rejected(report: IngestReport, status: Status) -> None:
    if status == Status.BLOCKED:
        report.blocked += 1
    elif status == Status.WRONG_NUMBER:
        report.wrong_number += 1
    elif status == Status.EXPIRED:
        report.expired += 1
    else:
        report.invalid += 1


def _stored_keys(s: Session, items: Sequence[IncomingNotification]) -> dict[tuple[str, str], str]:
    """The (source, external_id) of `items` that are in the store already, with the phone
    as it was typed then."""
    keys = {(i.source, i.external_id) for i in items}
    seen: dict[tuple[str, str], str] = {}
    for source in {k[0] for k in keys}:
        ids = [k[1] for k in keys if k[0] == source]
        q = select(NotificationRow.external_id, NotificationRow.phone_raw).where(
            NotificationRow.source == source, NotificationRow.external_id.in_(ids)
        )
        seen.update(((source, e), raw) for e, raw in s.execute(q))
    return seen


def _numbers(items: Sequence[IncomingNotification], context: AdmissionContext) -> set[str]:
    """The numbers of `items` in E.164, those that parse (admit rejects the others)."""
    numbers: set[str] = set()
    for item in items:
        try:
            numbers.add(normalize_phone(item.phone, context.default_region))
        except (InputError, ValueError):
            continue
    return numbers
