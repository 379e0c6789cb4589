"""A result that reaches the store late. Pure: outcomes and statuses in, a verdict out.

A worker that cannot store an attempt's result (the database is down, the disk is full) keeps it
in its journal and stores it later. Meanwhile its lease may expire and a reaper — its own or
another worker's — records the attempt INTERRUPTED and the policy schedules a retry. When the
real result finally arrives, which one decides the notification?

The rule: **a customer who was reached is not called again for the same thing.**

| the notification is now                                   | late outcome          | verdict |
|-----------------------------------------------------------|-----------------------|---------|
| PENDING (retry scheduled) or ACTIVE (a newer attempt runs) | the customer was      | APPLY   |
|                                                           | reached (see REACHED) |         |
| final without the customer's word (EXHAUSTED, EXPIRED,    | the customer decided  | APPLY   |
| INVALID, BLOCKED, CANCELLED)                              | (see DECISIONS)       |         |
| final by the customer (CONFIRMED, DECLINED, OPTED_OUT,    | anything              | RECORD  |
| OPERATOR_REQUESTED, DELIVERED, WRONG_NUMBER): the first    |                       |         |
| word stored wins                                          |                       |         |
| anything else                                             | not reached (busy, …) | RECORD  |

APPLY: the policy decides the notification's next step from the late result, as if it had
arrived in time (a confirmed customer ends CONFIRMED, the ERP is told). RECORD: the real facts
replace the reaper's INTERRUPTED on their attempt row, marked as not applied; the notification
keeps what it became (a busy line was going to be retried anyway).

A late result that reaches the store while a newer attempt is ACTIVE cannot stop that call, but
it settles the notification: the newer attempt's own result then arrives late in turn.
"""

from __future__ import annotations

import enum
from datetime import datetime

from cuckoo.domain import Outcome, Status

__all__ = ["DECISIONS", "REACHED", "Verdict", "late_result", "same_result"]

# The customer said what they want (or that they are not the customer): nothing to ask again.
DECISIONS = frozenset(
    {
        Outcome.CONFIRMED,
        Outcome.DECLINED,
        Outcome.OPTED_OUT,
        Outcome.OPERATOR_REQUESTED,
        Outcome.WRONG_NUMBER,
    }
)
# The customer got the message (a contact): retrying would repeat it.
REACHED = DECISIONS | {Outcome.CALLBACK_REQUESTED, Outcome.DELIVERED, Outcome.SENT}

# Final statuses only a customer's answer leads to.
_SETTLED_BY_CUSTOMER = frozenset(
    {
        Status.CONFIRMED,
        Status.DECLINED,
        Status.OPTED_OUT,
        Status.OPERATOR_REQUESTED,
        Status.DELIVERED,
        Status.WRONG_NUMBER,
    }
)


class Verdict(enum.StrEnum):
    APPLY = "apply"  # the late result decides the notification
    RECORD = "record"  # kept on its attempt row only


def late_result(outcome: Outcome, status: Status) -> Verdict:
    """What a result that arrives after its lease was lost does, given the notification's
    status now."""
    if status in _SETTLED_BY_CUSTOMER:
        return Verdict.RECORD
    if not status.is_final:
        return Verdict.APPLY if outcome in REACHED else Verdict.RECORD
    return Verdict.APPLY if outcome in DECISIONS else Verdict.RECORD


def same_result(
    stored_outcome: str | None,
    stored_ended_at: datetime | None,
    outcome: Outcome,
    ended_at: datetime,
) -> bool:
    """Whether an attempt row already holds this result (a replay of a result the store took
    before the worker could mark it done): its outcome and end time match."""
    return stored_outcome == outcome.value and stored_ended_at == ended_at
