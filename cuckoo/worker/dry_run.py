"""The dry-run channel: logs exactly what would be said or sent, calls nobody.

Admins use it to check scenarios and ERP rows against a real store (`cuckoo run --channel
dry-run`): every attempt is recorded with the text in `said` and outcome DELIVERED for a call
(the message was heard, nothing confirmed) or SENT for an SMS (accepted, like a gateway's).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from cuckoo.clock import Clock, utcnow
from cuckoo.domain import AttemptResult, ChannelKind, Notification, Outcome

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
