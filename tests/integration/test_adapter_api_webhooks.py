"""The api adapter against a real HTTP receiver on 127.0.0.1: the signed JSON it posts, how the
receiver's answers become errors, its options, and a result riding the worker's outbox until
the receiver takes it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters import build_adapter
from adapters.api import ApiAdapter, sign, verify
from cuckoo.config.adapters import AdapterSettings
from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.domain import AttemptResult, IncomingNotification, Outcome, ResultReport, Status
from cuckoo.errors import ConfigError, ErpUnavailable, InputError
from cuckoo.store import Store
from cuckoo.worker.scheduler import Scheduler

SECRET = "s3cret-ключ"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, noon in Moscow


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver: records every POST and answers `status` (after `delay_s`)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.status = 200
        self.answer = b"ok"
        self.delay_s = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                time.sleep(receiver.delay_s)
                try:
                    self.send_response(receiver.status)
                    self.send_header("Content-Length", str(len(receiver.answer)))
                    self.end_headers()
                    self.wfile.write(receiver.answer)
                except OSError:
                    pass  # the client gave up waiting (the timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest's output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def only(self) -> Received:
        [req] = self.requests
        return req


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


Make = Callable[..., ApiAdapter]


@pytest.fixture
def make(receiver: Receiver, tmp_path: Path) -> Iterator[Make]:
    """Builds an "api" adapter named "shop" the way the worker does; closes them after."""
    built: list[ApiAdapter] = []

    def _make(**options: Any) -> ApiAdapter:
        settings = {"webhook_url": receiver.url, "webhook_secret": SECRET, **options}
        settings = {k: v for k, v in settings.items() if v is not None}
        adapter = build_adapter(
            "shop", AdapterSettings.model_validate({"type": "api", **settings}), tmp_path
        )
        assert isinstance(adapter, ApiAdapter)
        built.append(adapter)
        return adapter

    yield _make
    for a in built:
        a.close()


def confirmed() -> ResultReport:
    return ResultReport(
        source="shop",
        external_id="A-17",
        status=Status.CONFIRMED,
        outcome=Outcome.CONFIRMED,
        attempts=1,
        contacts=1,
        last_attempt_at=datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo("Europe/Moscow")),
        dtmf="1",
        transcript="да",
        detail="confirmed: final",
    )


def exhausted() -> ResultReport:
    return ResultReport(
        "shop", "B-2", Status.EXHAUSTED, Outcome.NO_ANSWER, 3, 0, None, detail=_CAP_DETAIL
    )


_CAP_DETAIL = "no_answer: cap of 3 attempts reached"


def test_posts_signed_json_worded_in_russian(receiver: Receiver, make: Make) -> None:
    before = int(time.time())
    make().report(confirmed())
    req = receiver.only()
    assert req.path == "/hook"
    assert req.headers["Content-Type"] == "application/json"
    ts = req.headers["X-Cuckoo-Timestamp"]
    assert before <= int(ts) <= time.time() + 1
    assert req.headers["X-Cuckoo-Signature"] == sign(SECRET, int(ts), req.body)
    assert "подтверждено".encode() in req.body  # UTF-8 as it is, not \u escapes
    payload = json.loads(req.body.decode("utf-8"))
    sent_at = payload.pop("sent_at")
    assert datetime.fromisoformat(sent_at).timestamp() == int(ts)
    assert payload == {
        "event": "result",
        "source": "shop",
        "external_id": "A-17",
        "status": "confirmed",
        "status_text": "подтверждено",
        "outcome": "confirmed",
        "outcome_text": "подтвердил",
        "attempts": 1,
        "contacts": 1,
        "last_attempt_at": "2026-11-21T07:00:00+00:00",
        "dtmf": "1",
        "transcript": "да",
        "callback_at": None,
        "detail": "подтверждено",
    }

    make().report(exhausted())
    second = json.loads(receiver.requests[1].body)
    assert (second["status_text"], second["outcome_text"]) == ("не дозвонились", "не ответил")
    assert second["detail"] == "не дозвонились: исчерпано 3 попытки"
    assert second["last_attempt_at"] is None


def test_signature_verifies_only_for_the_secret_the_body_and_a_fresh_timestamp(
    receiver: Receiver, make: Make
) -> None:
    make().report(confirmed())
    req = receiver.only()
    ts, signature = req.headers["X-Cuckoo-Timestamp"], req.headers["X-Cuckoo-Signature"]
    now = time.time()
    assert verify(SECRET, ts, signature, req.body, now)
    assert not verify("wrong", ts, signature, req.body, now)
    assert not verify(SECRET, ts, signature, req.body.replace(b'"A-17"', b'"A-18"'), now)
    assert not verify(SECRET, str(int(ts) + 1), signature, req.body, now)  # forged timestamp
    assert not verify(SECRET, ts, signature, req.body, int(ts) + 301)  # replayed too late
    assert verify(SECRET, ts, signature, req.body, int(ts) + 301, tolerance_s=400)
    assert not verify(SECRET, "yesterday", signature, req.body, now)


def test_results_in_english(receiver: Receiver, make: Make) -> None:
    adapter = make(results="en")
    adapter.report(confirmed())
    adapter.report(exhausted())
    first, second = (json.loads(r.body) for r in receiver.requests)
    assert (first["status_text"], first["outcome_text"]) == ("confirmed", "confirmed")
    assert first["detail"] == "confirmed: final"
    assert (second["status"], second["status_text"]) == ("exhausted", "exhausted")
    assert second["detail"] == _CAP_DETAIL


@pytest.mark.parametrize("status", [500, 503, 429, 408])
def test_server_trouble_is_erp_unavailable(receiver: Receiver, make: Make, status: int) -> None:
    receiver.status = status
    with pytest.raises(ErpUnavailable, match=f"answered {status}") as e:
        make().report(confirmed())
    assert receiver.url in str(e.value) and SECRET not in str(e.value)


def test_closed_port_and_timeout_are_erp_unavailable(receiver: Receiver, make: Make) -> None:
    slow = make(webhook_timeout_s=0.2)
    receiver.delay_s = 1.0
    with pytest.raises(ErpUnavailable, match=r"did not answer in 0\.2 s"):
        slow.report(confirmed())
    adapter = make()
    receiver.close()
    with pytest.raises(ErpUnavailable, match="cannot reach webhook") as e:
        adapter.report(confirmed())
    assert receiver.url in str(e.value) and SECRET not in str(e.value)


def test_a_refused_body_is_input_error(receiver: Receiver, make: Make) -> None:
    receiver.status = 400
    receiver.answer = b"unknown external_id " + b"x" * 500
    with pytest.raises(InputError, match=r"\(400\): 'unknown external_id x") as e:
        make().report(confirmed())
    assert "x" * 200 not in str(e.value)  # only the start of the body


def test_without_webhook_url_nothing_is_posted(receiver: Receiver, make: Make) -> None:
    adapter = make(webhook_url=None, webhook_secret=None)
    assert adapter.options.webhook_url == ""
    adapter.report(confirmed())  # acknowledged: the result is read through the API
    assert receiver.requests == []
    assert adapter.fetch_pending() == []


def test_interim_results_only_when_asked(receiver: Receiver, make: Make) -> None:
    callback = ResultReport(
        "shop",
        "C-3",
        Status.PENDING,
        Outcome.CALLBACK_REQUESTED,
        1,
        1,
        NOW,
        callback_at=datetime(2026, 11, 24, 11, 0, tzinfo=ZoneInfo("Europe/Moscow")),
    )
    make().report(callback)
    assert receiver.requests == []
    make(webhook_attempts=True).report(callback)
    payload = json.loads(receiver.only().body)
    assert (payload["status"], payload["outcome"]) == ("pending", "callback_requested")
    assert payload["callback_at"] == "2026-11-24T08:00:00+00:00"


def test_options_are_checked(make: Make, tmp_path: Path, receiver: Receiver) -> None:
    with pytest.raises(ConfigError, match=r"\[adapters\.shop\.webhook_secret\] .*required"):
        make(webhook_secret=None)
    with pytest.raises(ConfigError, match=r"\[adapters\.shop\.webhook_url\] .*http"):
        make(webhook_url="ftp://example.com/hook")
    with pytest.raises(ConfigError, match=r"\[adapters\.shop\.webhook_secret_file\] .*no such"):
        make(webhook_secret=None, webhook_secret_file="nope")
    (tmp_path / "hook-secret").write_text("из-файла\n", encoding="utf-8")
    adapter = make(webhook_secret=None, webhook_secret_file="hook-secret")
    assert adapter.options.webhook_secret == "из-файла"
    assert "из-файла" not in repr(adapter.options)
    assert adapter.fetch_pending() == []
    adapter.report(confirmed())
    req = receiver.only()
    ts, signature = req.headers["X-Cuckoo-Timestamp"], req.headers["X-Cuckoo-Signature"]
    assert verify("из-файла", ts, signature, req.body, time.time())


def test_a_result_waits_in_the_outbox_until_the_receiver_takes_it(
    receiver: Receiver, make: Make, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'cuckoo.db'}")
    store.upgrade()
    try:
        store.ingest([IncomingNotification("shop", "D-4", "+79123000001", "order_ready")], NOW)
        [n] = store.claim_due("w", NOW, 1, 60)
        answer = AttemptResult(Outcome.CONFIRMED, NOW, NOW + timedelta(seconds=30), dtmf="1")
        assert store.finish_attempt(n, "w", answer, NOW) == Status.CONFIRMED
        clock = [NOW]
        settings = SchedulerSettings.model_validate({"outbox_retry_s": 60})
        sched = Scheduler(store, {}, [make()], settings, lambda: clock[0], "w")

        receiver.status = 500
        assert sched.flush_outbox() == 0
        assert store.outbox_pending() == 1 and len(receiver.requests) == 1
        assert sched.flush_outbox() == 0  # backing off: not even tried
        assert len(receiver.requests) == 1

        receiver.status = 200
        clock[0] += timedelta(hours=1)
        assert sched.flush_outbox() == 1
        assert store.outbox_pending() == 0
        body = receiver.requests[-1].body
        payload = json.loads(body)
        assert (payload["external_id"], payload["status"]) == ("D-4", "confirmed")
        assert payload["status_text"] == "подтверждено" and payload["dtmf"] == "1"
        headers = receiver.requests[-1].headers
        ts, signature = headers["X-Cuckoo-Timestamp"], headers["X-Cuckoo-Signature"]
        assert verify(SECRET, ts, signature, body, time.time())
    finally:
        store.close()


def test_every_attempt_reaches_the_webhook_when_asked(
    receiver: Receiver, make: Make, tmp_path: Path
) -> None:
    """`webhook_attempts = true`: the worker's store queues each finished attempt of the
    adapter's notifications, and the webhook hears the no-answer before the final yes."""
    from cuckoo.config import parse
    from cuckoo.worker.store import every_attempt_sources

    config = parse(
        f'[adapters.shop]\ntype = "api"\nwebhook_url = "{receiver.url}"\n'
        f'webhook_secret = "{SECRET}"\nwebhook_attempts = true\n'
        '[adapters.other]\ntype = "api"\ntenant = "south"\n',
        base_dir=tmp_path,
    )
    assert every_attempt_sources(config) == {"shop"}
    store = Store(f"sqlite:///{tmp_path / 'cuckoo.db'}", report_every_attempt={"shop"})
    store.upgrade()
    try:
        store.ingest([IncomingNotification("shop", "D-5", "+79123000002", "order_ready")], NOW)
        [n] = store.claim_due("w", NOW, 1, 60)
        silence = AttemptResult(Outcome.NO_ANSWER, NOW, NOW + timedelta(seconds=30))
        assert store.finish_attempt(n, "w", silence, NOW) == Status.PENDING
        later = NOW + timedelta(days=1)
        [n] = store.claim_due("w", later, 1, 60)
        answer = AttemptResult(Outcome.CONFIRMED, later, later + timedelta(seconds=30), dtmf="1")
        assert store.finish_attempt(n, "w", answer, later) == Status.CONFIRMED
        sched = Scheduler(
            store, {}, [make(webhook_attempts=True)], SchedulerSettings(), lambda: later, "w"
        )
        assert sched.flush_outbox() == 2
        posted = [json.loads(r.body) for r in receiver.requests]
        assert [(p["status"], p["outcome"]) for p in posted] == [
            ("pending", "no_answer"),
            ("confirmed", "confirmed"),
        ]
        assert posted[0]["outcome_text"] == "не ответил"
    finally:
        store.close()
