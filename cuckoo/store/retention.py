"""Personal data kept no longer than needed (152-ФЗ): `[store] retention_days`.

A notification final for longer than that is purged (`purge`), in place, so counts and
reports by status, outcome and day stay right:
- its phone becomes a marker ("x:" + 16 hex digits of its SHA-256: no longer a number, never
  dialled, yet one customer's rows still group together), the phone as typed is emptied;
- its variables (names, addresses, sums) are cleared;
- its attempts lose their transcripts and what the robot said (it named the customer), and
  their recordings are deleted from disk;
- the texts of the SMS its calls asked for are cleared; so are the transcripts and details of
  its reports already delivered to the ERP (the outbox).

Not purged: the do-not-call list and the recorded wrong numbers — they exist to keep a number
from being called, which needs the number. Idempotent: a purged row (its marker) is skipped.
Every function takes the caller's session, i.e. runs in its transaction.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cuckoo.domain import Status
from cuckoo.store.models import AttemptRow, NotificationRow, OutboxRow, SmsRequestRow

__all__ = ["PURGED", "PurgeReport", "purge", "purged_phone"]

log = logging.getLogger(__name__)

PURGED = "x:"  # the phone marker's prefix
_OPEN = (Status.PENDING.value, Status.ACTIVE.value)


@dataclass
class PurgeReport:
    notifications: int = 0
    attempts: int = 0
    recordings: int = 0
    recording_errors: list[str] = field(default_factory=list)


def purged_phone(phone: str) -> str:
    """The marker that replaces a number: not reversible, the same for the same number."""
    return PURGED + hashlib.sha256(phone.encode()).hexdigest()[:16]


def purge(s: Session, before: datetime, limit: int, *, dry_run: bool = False) -> PurgeReport:
    """Purge up to `limit` notifications final since before `before` (see the module)."""
    q = (
        select(NotificationRow)
        .where(
            NotificationRow.status.not_in(_OPEN),
            NotificationRow.updated_at < before,
            NotificationRow.phone.not_like(PURGED + "%"),
        )
        .order_by(NotificationRow.id)
        .limit(limit)
    )
    report = PurgeReport()
    for row in list(s.scalars(q)):
        report.notifications += 1
        attempts = list(s.scalars(select(AttemptRow).where(AttemptRow.notification_id == row.id)))
        report.attempts += len(attempts)
        for att in attempts:
            if att.recording_path:
                path = Path(att.recording_path)
                if path.exists():
                    report.recordings += 1
                    if not dry_run:
                        try:
                            path.unlink()
                        except OSError as e:
                            report.recording_errors.append(f"{path}: {e}")
                            continue
                if not dry_run:
                    att.recording_path = None
            if not dry_run:
                att.transcript, att.said = "", []
        if dry_run:
            continue
        marker = purged_phone(row.phone) if row.phone else PURGED
        for att in attempts:
            att.detail = _masked(att.detail, row.phone, marker)
        row.detail = _masked(row.detail, row.phone, marker)
        for sms in s.scalars(select(SmsRequestRow).where(SmsRequestRow.notification_id == row.id)):
            sms.text = ""
        delivered = select(OutboxRow).where(
            OutboxRow.notification_id == row.id, OutboxRow.acked_at.is_not(None)
        )
        for out in s.scalars(delivered):
            detail = _masked(str(out.payload.get("detail", "")), row.phone, marker)
            out.payload = {**out.payload, "transcript": "", "detail": detail}
        row.phone, row.phone_raw, row.variables = marker, "", {}
    return report


def _masked(text: str, phone: str, marker: str) -> str:
    return text.replace(phone, marker) if phone and text else text
