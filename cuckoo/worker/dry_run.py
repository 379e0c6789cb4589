"""The dry run: logs exactly what would be said or sent, calls nobody, changes nothing.

Admins use it to check scenarios and ERP rows against a real store (`cuckoo run --channel
dry-run`). `dry_run_once` reads the ERPs' pending rows and admits them in memory (what would
be stored, or refused and why), and takes the notifications due now without leasing them;
`DryRunChannel` logs what each call would say up to its first question, or the SMS text. The
store is only read: no notification is stored, leased, counted or reported. (An adapter that
writes unreadable rows back to its ERP, `report_invalid`, does so on any fetch.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cuckoo.clock import Clock, utcnow
from cuckoo.domain import AttemptResult, Channel, ChannelKind, ErpAdapter, Notification, Outcome
from cuckoo.errors import CuckooError
from cuckoo.intake.admission import Admitted, first_channel
from cuckoo.store import Store

log = logging.getLogger(__name__)

Render = Callable[[Notification], list[str]]


def default_render(n: Notification) -> list[str]:
    """Without the scenario renderer: the scenario name and its variables."""
    variables = json.dumps(n.variables, ensure_ascii=False, sort_keys=True, default=str)
    return [f"scenario {n.scenario} {variables}"]


class DryRunChannel:
    def __init__(
        self,
        kind: ChannelKind,
        render: Render | None = None,
        clock: Clock | None = None,
    ) -> None:
        if kind == ChannelKind.CALL_THEN_SMS:
            raise ValueError("a channel is either call or sms")
        self.kind: ChannelKind = kind
        self.render: Render = render or default_render
        self.clock = clock or utcnow

    def deliver(self, notification: Notification) -> AttemptResult:
        started = self.clock()
        said = self.render(notification)
        verb = "would call" if self.kind == ChannelKind.CALL else "would text"
        for line in said:
            log.info(
                "dry-run: %s %s (%s/%s, attempt %d): %s",
                verb,
                notification.phone,
                notification.source,
                notification.external_id,
                notification.attempt_no,
                line,
            )
        # A call "heard" the message (DELIVERED: retried until the barrier, as a real call
        # without confirmation would be); an SMS was "accepted by the gateway" (SENT: final).
        return AttemptResult(
            outcome=Outcome.DELIVERED if self.kind == ChannelKind.CALL else Outcome.SENT,
            started_at=started,
            ended_at=self.clock(),
            answered_at=started if self.kind == ChannelKind.CALL else None,
            detail=f"dry run: {verb}",
            said=said,
        )


@dataclass
class DryRunReport:
    erp_rows: int = 0
    would_store: int = 0
    would_refuse: int = 0
    known: int = 0  # in the store already
    would_attempt: int = 0
    errors: list[str] = field(default_factory=list)


def dry_run_once(
    store: Store,
    adapters: Sequence[ErpAdapter],
    channels: Mapping[ChannelKind, Channel],
    now: datetime,
    limit: int = 100,
) -> DryRunReport:
    """One cycle as `run --once` would do it, on paper (see the module)."""
    report = DryRunReport()
    fresh: list[Notification] = []
    for adapter in adapters:
        try:
            items = adapter.fetch_pending()
        except CuckooError as e:
            report.errors.append(f"ERP {adapter.name}: fetch failed: {e}")
            continue
        report.erp_rows += len(items)
        for item, verdict in store.preview_ingest(items, now):
            where = f"{item.source}/{item.external_id}"
            if verdict is None:
                report.known += 1
            elif not isinstance(verdict, Admitted):
                report.would_refuse += 1
                log.info("dry-run: would refuse %s (%s): %s", where, verdict.status, verdict.reason)
            else:
                report.would_store += 1
                if verdict.next_attempt_at > now:
                    log.info("dry-run: would store %s, first attempt at %s", where,
                             verdict.next_attempt_at.isoformat())  # fmt: skip
                    continue
                fresh.append(
                    Notification(
                        0,
                        item.source,
                        item.external_id,
                        item.tenant,
                        verdict.phone,
                        item.phone,
                        first_channel(verdict.channel),
                        item.scenario,
                        verdict.variables,
                        verdict.timezone,
                        1,
                        0,
                    )
                )
    for n in [*fresh, *store.due_notifications(now, limit)]:
        channel = channels.get(n.channel)
        if channel is None:
            report.errors.append(f"{n.source}/{n.external_id}: no {n.channel} channel")
            continue
        channel.deliver(n)
        report.would_attempt += 1
    return report
