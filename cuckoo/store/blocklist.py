"""The do-not-call list: numbers in E.164 that cuckoo never calls nor texts.

What it persists: one `BlockedNumberRow` per number, with why and since when. Numbers come in
E.164 already (the caller normalizes what a person typed). Who reads it:
- intake: a new row whose number is listed is stored BLOCKED (`blocked_among`, once per chunk);
- claiming: a pending row whose number was listed meanwhile becomes BLOCKED instead of being
  called (`blocked_among`, once per page of due rows);
- finishing: a customer who opted out in a call is added (`add`, in the same transaction).
Every function takes the caller's session, i.e. runs in its transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cuckoo.store.models import BlockedNumberRow

__all__ = ["add", "all_numbers", "blocked_among", "contains", "remove"]


def add(s: Session, e164: str, reason: str, now: datetime) -> None:
    """List the number; a number already listed keeps its first reason and date."""
    if s.get(BlockedNumberRow, e164) is None:
        with s.begin_nested():
            s.add(BlockedNumberRow(phone=e164, reason=reason, created_at=now))


def remove(s: Session, e164: str) -> bool:
    """Take the number off the list; False if it was not on it."""
    res = s.execute(delete(BlockedNumberRow).where(BlockedNumberRow.phone == e164))
    return bool(res.rowcount)  # type: ignore[attr-defined]


def contains(s: Session, e164: str) -> bool:
    return s.get(BlockedNumberRow, e164) is not None


def blocked_among(s: Session, phones: Collection[str]) -> set[str]:
    """Those of `phones` that are listed (one query; empty strings are ignored)."""
    wanted = {p for p in phones if p}
    if not wanted:
        return set()
    q = select(BlockedNumberRow.phone).where(BlockedNumberRow.phone.in_(wanted))
    return set(s.scalars(q))


def all_numbers(s: Session) -> list[BlockedNumberRow]:
    """The whole list, oldest first."""
    return list(s.scalars(select(BlockedNumberRow).order_by(BlockedNumberRow.created_at)))
