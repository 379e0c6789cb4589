"""The store goes away while customers are on the line, and no answer is lost (issue 13).

The real worker (the demo rig: sample SQL ERP, call workers running the dialog, simulated phones
over SIP on loopback) calls four customers. Once all four have answered, the store stops dead:

- PostgreSQL: a cluster of this test's own (tests/pg_cluster.py) is stopped with
  `pg_ctl stop -m immediate`, then started again;
- SQLite: another process holds the database's write lock (a backup, an admin's open
  transaction) well past the store's busy timeout, then lets go.

Meanwhile each customer presses 1 and hangs up, and the outage outlasts the worker's leases, so
its reaper would find them expired. When the store is back: every confirmation is in the store
and reached the ERP, nobody was called twice, no attempt is left INTERRUPTED, the journal is
empty, and the worker said one WARNING and one INFO about it — no traceback.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pg_cluster import Cluster, missing

from cuckoo.demo.cast import DOCS, Customer, Expected, documents, phones_script
from cuckoo.demo.rig import SOURCE, Rig, RigOptions
from cuckoo.domain import JsonObject, Outcome, Status
from cuckoo.store import Store

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(240)]

DOWN_S = 12.0  # how long the store is gone (the lease is 3 s: it runs out meanwhile)
LEASE_S = 3.0


def customers() -> list[Customer]:
    return [
        Customer(
            name,
            "Анна",
            None,
            f"8 912 300-00-0{i}",
            "Europe/Moscow",
            "Москва",
            "documents_sent",
            f"АКТ-00130{i}",
            "answers, presses 1 after a while",
            [{"action": "answer", "answer_after_s": 0.5, "dtmf": [{"at_s": 6.0, "keys": "1"}]}],
            Expected(Status.CONFIRMED, Outcome.CONFIRMED, 1, 1, calls=1),
            DOCS,
        )
        for i, name in enumerate(("Белова", "Громова", "Дёмина", "Ершова"), 1)
    ]


class StoreOutage:
    """How a store goes away and comes back."""

    def __init__(self, down: Callable[[], None], up: Callable[[], None]) -> None:
        self.down, self.up = down, up


LOCK_HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()  # until the test says so
    db.execute("ROLLBACK")
    """
)


@pytest.fixture(params=["postgres", "sqlite"])
def store_setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[JsonObject, StoreOutage]]:
    if request.param == "postgres":
        why = missing()
        if why:
            pytest.skip(why)
        cluster = Cluster()
        try:
            cluster.start()
            yield (
                {"url": cluster.url},
                StoreOutage(lambda: cluster.stop("immediate"), cluster.start),
            )
        finally:
            cluster.destroy()
        return
    db = tmp_path / "cuckoo.sqlite"
    holder: list[subprocess.Popen[str]] = []

    def down() -> None:
        p = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert p.stdout is not None and p.stdout.readline().strip() == "locked"
        holder.append(p)

    def up() -> None:
        p = holder.pop()
        assert p.stdin is not None
        p.stdin.write("\n")
        p.stdin.close()
        p.wait(10)

    try:
        yield {"url": f"sqlite:///{db}", "busy_timeout_ms": 300}, StoreOutage(down, up)
    finally:
        for p in holder:
            p.kill()
            p.wait()


class OutageRig(Rig):
    def __init__(self, workdir: Path, store: JsonObject, cast: list[Customer]) -> None:
        # 10× clock: a retry after an interrupted attempt (1 cuckoo minute) comes 6 s later,
        # so a customer wrongly reaped would be called again within the test.
        super().__init__(workdir, phones_script(cast), RigOptions(speed=10.0, max_calls=4))
        self.store_settings = store

    def config_data(self) -> JsonObject:
        data = super().config_data()
        data["store"] = dict(self.store_settings)
        data["scheduler"].update(
            lease_s=LEASE_S, reap_interval_s=1.0, poll_interval_s=0.5, outbox_interval_s=0.5
        )
        return data


def wait_for(what: str, pred: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while not pred():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)
    return time.monotonic()


def test_no_answer_is_lost_while_the_store_is_down(
    tmp_path: Path,
    store_setup: tuple[JsonObject, StoreOutage],
    caplog: pytest.LogCaptureFixture,
    record_property: Callable[[str, Any], None],
) -> None:
    caplog.set_level(logging.INFO, logger="cuckoo")
    store, outage = store_setup
    cast = customers()
    rig = OutageRig(tmp_path, store, cast).start()
    try:
        rig.flag(documents(cast))

        def count(event: str) -> int:
            return sum(e["event"] == event for e in rig.phone_events())

        wait_for("all four customers to answer", lambda: count("answered") == 4, 60)
        outage.down()
        went_down = time.monotonic()
        wait_for("all four to press 1 and hang up", lambda: count("ended") == 4, 60)
        time.sleep(max(0.0, went_down + DOWN_S - time.monotonic()))
        outage.up()
        came_back = time.monotonic()
        ids = rig.document_ids()
        ext = [str(ids[c.number]) for c in cast]
        # The test looks through a store of its own: a read through the worker's would tell
        # the worker the store is back before its own back-off found out.
        observer = Store(store["url"])
        try:

            def rows() -> list[Any]:
                return [observer.get(SOURCE, e) for e in ext]

            def settled() -> bool:
                return all(r is not None and r.status == Status.CONFIRMED.value for r in rows())

            recovered = wait_for("every confirmation in the store", settled, 60) - came_back
            wait_for("every result in the ERP", lambda: observer.outbox_pending() == 0, 30)
            # Long enough for a wrongly reaped customer's retry (6 s) to ring again.
            time.sleep(10.0)
            attempts = {r.external_id: [a.outcome for a in observer.attempts_of(r.id)]
                        for r in rows()}  # fmt: skip
        finally:
            observer.close()
        journal = sorted((tmp_path / "journal").glob("*.jsonl"))
        journal_text = "".join(p.read_text() for p in journal)
    finally:
        rig.stop()

    calls = [e for e in rig.phone_events() if e["event"] == "incoming"]
    lost = sum(outcomes != ["confirmed"] for outcomes in attempts.values())
    duplicated = len(calls) - len(cast)
    kind = store["url"].split(":")[0].split("+")[0]
    record_property("scenario", f"store down {DOWN_S:.0f} s mid-call ({kind})")
    record_property("called_in_vain", duplicated)  # a confirmed customer rung again
    record_property("results_lost", lost)
    record_property("duplicated_calls", duplicated)
    record_property("recovery_s", round(recovered, 2))
    print(
        f"\n[{store['url'].split(':')[0]}] store down {DOWN_S:.0f} s: results lost {lost}, "
        f"duplicated calls {duplicated}, recovered {recovered:.2f} s after it came back"
    )
    assert attempts == {e: ["confirmed"] for e in ext}  # one attempt each, none interrupted
    assert (lost, duplicated) == (0, 0)
    erp = [(r["status_code"], r["outcome_code"], r["dtmf"]) for r in rig.erp_results()]
    assert erp == [("confirmed", "confirmed", "1")] * 4
    assert journal_text == ""  # nothing left waiting

    records = [r for r in caplog.records if r.name.startswith("cuckoo")]
    said_down = [r for r in records if "store is unavailable" in r.getMessage()]
    said_back = [r for r in records if "store is back" in r.getMessage()]
    assert [r.levelno for r in said_down] == [logging.WARNING], said_down
    assert [r.levelno for r in said_back] == [logging.INFO], said_back
    tracebacks = [f"{r.name}: {r.getMessage()}" for r in records if r.exc_info]
    assert tracebacks == []
    assert not [r for r in records if "could not store" in r.getMessage()]
