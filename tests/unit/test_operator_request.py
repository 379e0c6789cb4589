"""[telephony] operator reaches the call workers' request (for `transfer: operator`)."""

from __future__ import annotations

from pathlib import Path

from cuckoo.config import parse
from cuckoo.domain import ChannelKind, Notification
from cuckoo.worker.channels import DialogCallChannel


def _notification() -> Notification:
    return Notification(
        1,
        "shop",
        "1",
        "default",
        "+79121000001",
        "+79121000001",
        ChannelKind.CALL,
        "order_ready",
        {},
        "Europe/Moscow",
        1,
        0,
    )


def test_operator_goes_into_the_request(tmp_path: Path) -> None:
    cfg = parse('[telephony]\noperator = "sip:op@pbx.local"\n', base_dir=tmp_path)
    assert cfg.telephony.operator == "sip:op@pbx.local"
    req = DialogCallChannel(cfg).request_for(_notification())
    assert req["operator"] == "sip:op@pbx.local"


def test_no_operator_no_key(tmp_path: Path) -> None:
    cfg = parse("", base_dir=tmp_path)
    req = DialogCallChannel(cfg).request_for(_notification())
    assert "operator" not in req
