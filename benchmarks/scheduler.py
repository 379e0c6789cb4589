"""Dispatch tick time vs. the number of stored notifications.

For each database and size: a fresh database with N stored notifications — 70 % final, 30 %
pending in the future, exactly `--due` (default 100) due now — then the time of one dispatch tick
`Store.claim_due(owner, now, limit=100, lease_s=60)` (it claims all due rows and opens their
attempt rows). The first (cold) tick is shown apart; the tick is then repeated (the claimed
rows are put back between runs, untimed) and the median and worst are printed, plus a tick with
nothing due. Target: flat in N, at most 50 ms. "capped ms" is the median tick under a
store-wide cap on calls (`[scheduler] cluster_max_calls`, set above the due count so the same
rows are claimed): the cost of counting the calls in flight (and, on PostgreSQL, the advisory
lock that serializes such claims), measured in the same run as the plain tick.

    .venv/bin/python benchmarks/scheduler.py                       # 10k, 100k, 1M; SQLite + PG
    .venv/bin/python benchmarks/scheduler.py --sizes 10000,100000 --db sqlite

Rows are bulk-loaded with driver-level executemany (SQLite) and COPY (PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cuckoo.domain import ChannelKind
from cuckoo.store import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday: calling windows are open
COLUMNS = [
    *("source", "external_id", "tenant", "phone", "phone_raw", "channel", "current_channel"),
    *("scenario", "variables", "timezone", "status", "attempts", "channel_attempts", "contacts"),
    *("network_failures", "rejections", "attempt_seq", "next_attempt_at", "detail"),
    *("created_at", "updated_at"),
]
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def rows(n: int, due: int) -> Iterator[tuple[object, ...]]:
    """N rows: `due` due now, then 30 % pending later, the rest final."""
    created = NOW - timedelta(days=3)
    for i in range(n):
        phone = f"+7912{i % 10_000_000:07d}"
        if i < due:
            status, at = "pending", NOW - timedelta(minutes=1 + i % 50)
        elif i % 10 < 3:
            status, at = "pending", NOW + timedelta(minutes=10 + i % 5000)
        else:
            status, at = "confirmed", None
        yield (
            "erp",
            str(i),
            "default",
            phone,
            phone,
            "call",
            "call",
            "order_ready",
            json.dumps({"order": f"A-{i}"}),
            "Asia/Yekaterinburg",
            status,
            1,
            1,
            0 if status == "pending" else 1,
            0,
            0,
            1,
            at,
            "",
            created,
            created,
        )


def load_sqlite(store: Store, n: int, due: int) -> None:
    def naive(v: object) -> object:
        if isinstance(v, datetime):  # SQLAlchemy's SQLite storage format, naive UTC
            return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return v

    sql = (
        f"INSERT INTO notifications ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)})"
    )
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        batch: list[tuple[object, ...]] = []
        for r in rows(n, due):
            batch.append(tuple(naive(v) for v in r))
            if len(batch) == 50_000:
                cur.executemany(sql, batch)
                batch.clear()
        if batch:
            cur.executemany(sql, batch)
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()


def load_postgres(store: Store, n: int, due: int) -> None:
    raw = store.engine.raw_connection()
    try:
        sql = f"COPY notifications ({', '.join(COLUMNS)}) FROM STDIN"
        with raw.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[attr-defined]
            for r in rows(n, due):
                copy.write_row(r)
        raw.commit()
        with raw.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute("ANALYZE notifications")
        raw.commit()
    finally:
        raw.close()


def put_back(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM attempts"))
        conn.execute(
            sa.text(
                "UPDATE notifications SET status = 'pending', lease_owner = NULL, "
                "lease_until = NULL WHERE status = 'active'"
            )
        )


def measure(store: Store, due: int, repeat: int) -> tuple[float, float, float, float, float]:
    """First (cold) tick, median and worst of the warm ticks with `due` due rows, the tick
    with nothing due, and the median tick under a store-wide call cap, in ms."""
    t0 = time.perf_counter()
    store.claim_due("bench", NOW, 100, 60)
    first = (time.perf_counter() - t0) * 1000
    put_back(store)
    ticks = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        claimed = store.claim_due("bench", NOW, 100, 60)
        ticks.append((time.perf_counter() - t0) * 1000)
        assert len(claimed) == min(due, 100), f"claimed {len(claimed)}, expected {due}"
        put_back(store)
    store.claim_due("bench", NOW, 100, 60)
    t0 = time.perf_counter()
    assert store.claim_due("bench", NOW, 100, 60) == []
    idle = (time.perf_counter() - t0) * 1000
    put_back(store)
    capped = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        claimed = store.claim_due("bench", NOW, 100, 60, channel_caps={ChannelKind.CALL: 10_000})
        capped.append((time.perf_counter() - t0) * 1000)
        assert len(claimed) == min(due, 100), f"capped: claimed {len(claimed)}"
        put_back(store)
    return first, statistics.median(ticks), max(ticks), idle, statistics.median(capped)


def run(db: str, n: int, due: int, repeat: int, pg_url: str) -> tuple[float, ...]:
    schema = None
    tmp = None
    if db == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite'}"
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in pg_url else "?"
        url = f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    store = Store(url)
    try:
        store.upgrade()
        t0 = time.perf_counter()
        (load_sqlite if db == "sqlite" else load_postgres)(store, n, due)
        load_s = time.perf_counter() - t0
        return (load_s, *measure(store, due, repeat))
    finally:
        store.close()
        if schema:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        if tmp:
            tmp.cleanup()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated row counts")
    p.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    p.add_argument("--due", type=int, default=100, help="due rows among them")
    p.add_argument("--repeat", type=int, default=7, help="timed ticks per size")
    p.add_argument("--pg-url", default=PG_URL)
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"dispatch tick = claim_due(limit=100) with {args.due} due rows; {args.repeat} runs")
    print(
        f"{'db':<9} {'stored':>9} {'load s':>7} {'first ms':>9} {'median ms':>10} "
        f"{'worst ms':>9} {'idle ms':>8} {'capped ms':>10}"
    )
    for db in args.db.split(","):
        for n in sizes:
            try:
                load_s, first, median, worst, idle, capped = run(
                    db, n, args.due, args.repeat, args.pg_url
                )
            except sa.exc.OperationalError as e:
                print(f"{db:<9} {n:>9}  unavailable: {str(e).splitlines()[0]}")
                break
            print(
                f"{db:<9} {n:>9} {load_s:>7.1f} {first:>9.1f} {median:>10.1f} "
                f"{worst:>9.1f} {idle:>8.1f} {capped:>10.1f}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
