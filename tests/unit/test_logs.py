"""cuckoo.logs and [log]: JSON lines, the notification context, the private log file, and no
secret or message text in any handler's output."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from cuckoo.cli.logs import setup_logging
from cuckoo.config import parse
from cuckoo.logs import LogSpec, configure, current_spec, notification_context


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    configure(LogSpec())
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def lines_of(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_json_lines_with_context_and_extras(tmp_path: Path) -> None:
    config = parse('[log]\nformat = "json"\nfile = "logs/cuckoo.log"\nlevel = "debug"\n')
    umask = os.umask(0)  # modes must not depend on the umask
    try:
        spec = setup_logging(False, config.log, tmp_path / "var")
    finally:
        os.umask(umask)
    path = tmp_path / "var" / "logs" / "cuckoo.log"
    assert spec.file == str(path.resolve()) and spec.level == logging.DEBUG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    log = logging.getLogger("cuckoo.test")
    log.info("outside")
    with notification_context(123, "acme", 2):
        log.warning("busy, retry in %d s", 60, extra={"sip_code": 486})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("channel failed")
    log.debug("after")
    rows = lines_of(path)
    assert [r["message"] for r in rows] == [
        "outside",
        "busy, retry in 60 s",
        "channel failed",
        "after",
    ]
    first, busy, failed, after = rows
    assert "notification" not in first and "notification" not in after
    assert busy["notification"] == 123 and busy["tenant"] == "acme" and busy["attempt"] == 2
    assert busy["level"] == "WARNING" and busy["logger"] == "cuckoo.test"
    assert busy["sip_code"] == 486
    ts = datetime.fromisoformat(str(busy["ts"]).replace("Z", "+00:00"))
    assert str(busy["ts"]).endswith("Z") and ts.utcoffset() is not None
    assert "RuntimeError: boom" in str(failed["exc"])


def test_no_secret_or_message_text_reaches_the_json_file(tmp_path: Path) -> None:
    config = parse('[log]\nformat = "json"\nfile = "cuckoo.log"\n')
    setup_logging(False, config.log, tmp_path)
    log = logging.getLogger("cuckoo.sms")
    with notification_context(7, "shop", 1):
        log.info("GET https://sms.example/send?api_id=KEY-111&to=79001234567&msg=Hello-222")
        log.info("store at %s", "postgresql://cuckoo:PW-333@db/cuckoo")
        log.info("sent", extra={"text": "Your order 444 is ready", "password": "PW-555"})
        try:
            raise ValueError('{"password": "PW-666", "message": "Body-777"}')
        except ValueError:
            log.exception("gateway refused")
    raw = (tmp_path / "cuckoo.log").read_text(encoding="utf-8")
    for secret in ("KEY-111", "Hello-222", "PW-333", "444", "PW-555", "PW-666", "Body-777"):
        assert secret not in raw
    rows = lines_of(tmp_path / "cuckoo.log")
    assert len(rows) == 4
    assert rows[0]["message"] == ("GET https://sms.example/send?api_id=***&to=79001234567&msg=***")
    assert rows[2]["text"] == "***" and rows[2]["password"] == "***"


def test_text_lines_show_the_context(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    setup_logging(False, parse('[log]\nfile = "c.log"\n').log, tmp_path)
    log = logging.getLogger("cuckoo.worker.scheduler")
    seen: list[str] = []

    def attempt() -> None:  # an attempt thread: its own context
        with notification_context(123, "acme", 2):
            log.info("notification 123 attempt 2: busy → pending")
        seen.append("done")

    t = threading.Thread(target=attempt)
    t.start()
    t.join()
    log.info("no attempt here")
    text = (tmp_path / "c.log").read_text(encoding="utf-8")
    first, second = text.splitlines()
    assert "INFO cuckoo.worker.scheduler: [n=123 t=acme a=2] notification 123" in first
    assert "INFO cuckoo.worker.scheduler: no attempt here" in second
    assert capfd.readouterr().err.splitlines()[-2:] == [first, second]  # stderr gets them too


def test_verbose_wins_and_the_spec_is_what_a_call_worker_gets(tmp_path: Path) -> None:
    spec = setup_logging(True, parse('[log]\nlevel = "warning"\n').log, tmp_path)
    assert spec.level == logging.DEBUG and logging.getLogger().level == logging.DEBUG
    assert current_spec() == spec
