"""The dry-run channel says what it would say, records it, and calls nobody."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cuckoo.config import parse
from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.worker.channels import dry_run_channels
from cuckoo.worker.dry_run import DryRunChannel, default_render

N = Notification(
    id=7,
    source="erp",
    external_id="A-17",
    tenant="default",
    phone="+79123456700",
    phone_raw="8 912 345-67-00",
    channel=ChannelKind.CALL,
    scenario="order_ready",
    variables={"order": "A-17", "sum": 1500},
    timezone="Asia/Yekaterinburg",
    attempt_no=2,
    contacts=0,
)


def test_default_render_names_scenario_and_variables() -> None:
    assert default_render(N) == ['scenario order_ready {"order": "A-17", "sum": 1500}']


@pytest.mark.parametrize("kind", [ChannelKind.CALL, ChannelKind.SMS])
def test_deliver_logs_what_would_be_said(
    kind: ChannelKind, caplog: pytest.LogCaptureFixture
) -> None:
    times = iter([datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 3, tzinfo=UTC)])
    channel = DryRunChannel(
        kind,
        render=lambda n: [f"Заказ {n.variables['order']} готов.", "До свидания."],
        clock=lambda: next(times),
    )
    with caplog.at_level(logging.INFO, logger="cuckoo.worker.dry_run"):
        r = channel.deliver(N)
    assert r.outcome == (Outcome.DELIVERED if kind == ChannelKind.CALL else Outcome.SENT)
    assert r.said == ["Заказ A-17 готов.", "До свидания."]
    assert r.duration_s == timedelta(seconds=3).total_seconds()
    verb = "would call" if kind == ChannelKind.CALL else "would text"
    assert f"{verb} +79123456700" in caplog.text and "Заказ A-17 готов." in caplog.text
    assert (r.answered_at is not None) == (kind == ChannelKind.CALL)


def test_channels_for_both_kinds_and_no_mixed_kind(tmp_path: Path) -> None:
    channels = dry_run_channels(parse("", base_dir=tmp_path))
    assert set(channels) == {ChannelKind.CALL, ChannelKind.SMS}
    with pytest.raises(ValueError):
        DryRunChannel(ChannelKind.CALL_THEN_SMS)
