"""Web console and API figures (issue 12): API intake rate, and the notifications page and
one notification's page at 1 M stored notifications.

    .venv/bin/python benchmarks/web.py [--rows 1000000] [--intake 2000] [--db sqlite|postgres]

Everything is real: uvicorn on loopback, httpx as the client (keep-alive), the store on SQLite
(default) or the local PostgreSQL. Intake is measured against a baseline taken in the same
run: the same notifications stored by `Store.ingest` one at a time, with no HTTP in between.
Pages are timed over 100 requests each (p50/p95), as a manager of one tenant and as an admin.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from cuckoo.config import load  # noqa: E402
from cuckoo.demo.rig import toml_text  # noqa: E402
from cuckoo.domain import IncomingNotification  # noqa: E402
from cuckoo.resources import shipped  # noqa: E402
from cuckoo.store import Store  # noqa: E402
from cuckoo.store.models import AttemptRow, NotificationRow  # noqa: E402
from cuckoo.web.context import WebContext  # noqa: E402
from cuckoo.web.passwords import hash_password  # noqa: E402
from cuckoo.web.server import BackgroundServer  # noqa: E402
from cuckoo.worker.store import open_store  # noqa: E402

PASSWORD = "benchmark password"
VARIABLES = {
    "customer": {"first_name": "Пётр", "patronymic": "Николаевич"},
    "sent_date": "2026-02-07",
    "period": "декабрь",
    "company": "ООО «Ромашка»",
}
TENANTS = ["acme", "south", "north", "west"]
STATUSES = ["confirmed"] * 5 + ["exhausted", "declined", "pending", "opted_out", "cancelled"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def seed(store: Store, rows: int) -> None:
    """`rows` notifications (and an attempt for every tenth) as bulk inserts: what a year of a
    busy shop leaves behind, spread over the last 365 days."""
    now = datetime.now(UTC)
    rng = random.Random(12)
    chunk = 20_000
    table = NotificationRow.__table__
    attempts = AttemptRow.__table__
    next_id = 1_000_000
    with store.engine.begin() as conn:
        done = 0
        while done < rows:
            batch, atts = [], []
            for i in range(done, min(rows, done + chunk)):
                created = now - timedelta(minutes=(rows - i) * 525_600 / rows)
                status = STATUSES[i % len(STATUSES)]
                tenant = TENANTS[i % len(TENANTS)]
                batch.append(
                    {
                        "id": next_id + i,
                        "source": f"api_{tenant}",
                        "external_id": f"B-{i}",
                        "tenant": tenant,
                        "phone": f"+7912{rng.randrange(10**7):07d}",
                        "phone_raw": "",
                        "channel": "call",
                        "current_channel": "call",
                        "scenario": "documents_sent",
                        "variables": VARIABLES,
                        "timezone": "Europe/Moscow",
                        "status": status,
                        "attempts": 1,
                        "channel_attempts": 1,
                        "contacts": 1,
                        "network_failures": 0,
                        "rejections": 0,
                        "attempt_seq": 1 if i % 10 == 0 else 0,
                        "next_attempt_at": created if status == "pending" else None,
                        "detail": "",
                        "consent": "",
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                if i % 10 == 0:
                    atts.append(
                        {
                            "notification_id": next_id + i,
                            "no": 1,
                            "channel": "call",
                            "owner": "bench",
                            "started_at": created,
                            "answered_at": created,
                            "ended_at": created + timedelta(seconds=40),
                            "sip_code": 200,
                            "outcome": "confirmed",
                            "dtmf": "1",
                            "transcript": "да",
                            "duration_s": 40.0,
                            "detail": "",
                            "said": ["Здравствуйте"],
                        }
                    )
            conn.execute(table.insert(), batch)
            if atts:
                conn.execute(attempts.insert(), atts)
            done += len(batch)
            print(f"\r  seeded {done:,} notifications", end="", flush=True)
    print()


def login(url: str, name: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=60)
    c.get("/login")
    r = c.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf": c.cookies["cuckoo_login_csrf"]}
    )
    assert r.status_code == 303, r.text
    return c


def timed(client: httpx.Client, paths: list[str]) -> tuple[float, float]:
    ms = []
    for path in paths:
        t = time.perf_counter()
        r = client.get(path)
        ms.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    return statistics.median(ms), pct(ms, 95)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--intake", type=int, default=2000)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cuckoo-web-bench-"))
    if args.db == "sqlite":
        url = f"sqlite:///{work / 'cuckoo.sqlite'}"
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        eng = sa.create_engine(url)
        with eng.begin() as conn:  # a clean schema of its own
            conn.execute(sa.text("DROP SCHEMA IF EXISTS web_bench CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA web_bench"))
        eng.dispose()
        url += "?options=-csearch_path%3Dweb_bench"
    port = free_port()
    data = {
        "scenarios_dir": str(shipped("scenarios")),
        "voices_dir": str(shipped("voices")),
        "var_dir": str(work / "var"),
        "store": {"url": url},
        "web": {"listen": f"127.0.0.1:{port}", "login_attempts": 1000},
        "adapters": {f"api_{t}": {"type": "api", "tenant": t} for t in TENANTS},
    }
    (work / "cuckoo.toml").write_text(toml_text(data), encoding="utf-8")
    config = load(work / "cuckoo.toml")
    Store(url).upgrade()
    store = open_store(config)
    now = datetime.now(UTC)
    store.console.add_user("admin", "admin", None, hash_password(PASSWORD), now)
    store.console.add_user("anna", "manager", "acme", hash_password(PASSWORD), now)
    token = store.console.create_token("acme", "bench", now)[1]
    server = BackgroundServer(WebContext(store, config), config.web.listen).start()
    base = f"http://127.0.0.1:{port}"
    print(f"store: {args.db}; work folder {work}")

    # ---- intake: the baseline (the store alone), then the API ----
    n = args.intake
    t = time.perf_counter()
    for i in range(n):
        store.ingest(
            [
                IncomingNotification(
                    source="api_acme",
                    external_id=f"base-{i}",
                    phone=f"+7913{i:07d}",
                    scenario="documents_sent",
                    variables=VARIABLES,
                    tenant="acme",
                )
            ],
            now,
        )
    base_rate = n / (time.perf_counter() - t)
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [
        json.dumps(
            {
                "external_id": f"api-{i}",
                "phone": f"+7914{i:07d}",
                "scenario": "documents_sent",
                "variables": VARIABLES,
            }
        )
        for i in range(n)
    ]
    with httpx.Client(
        base_url=base + "/api/v1",
        headers={**headers, "content-type": "application/json"},
        timeout=60,
    ) as c:
        t = time.perf_counter()
        for body in bodies:
            r = c.post("/notifications", content=body)
            assert r.status_code == 201, r.text
        api_rate = n / (time.perf_counter() - t)

    clients = 4
    share = [bodies[i::clients] for i in range(clients)]
    share = [[b.replace('"api-', f'"par{k}-') for b in part] for k, part in enumerate(share)]

    def post_all(part: list[str]) -> None:
        with httpx.Client(
            base_url=base + "/api/v1",
            headers={**headers, "content-type": "application/json"},
            timeout=60,
        ) as c:
            for body in part:
                r = c.post("/notifications", content=body)
                assert r.status_code == 201, r.text

    threads = [threading.Thread(target=post_all, args=(p,)) for p in share]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    par_rate = n / (time.perf_counter() - t)
    batch = [json.loads(b.replace('"api-', '"batch-')) for b in bodies]
    with httpx.Client(base_url=base + "/api/v1", headers=headers, timeout=120) as c:
        t = time.perf_counter()
        for i in range(0, n, 100):
            r = c.post("/notifications/batch", json={"notifications": batch[i : i + 100]})
            assert r.status_code == 200 and all("id" in x for x in r.json()["results"]), r.text
        batch_rate = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(0, n, 100):
        store.ingest(
            [
                IncomingNotification(
                    source="api_acme",
                    external_id=f"bb-{j}",
                    phone=f"+7915{j:07d}",
                    scenario="documents_sent",
                    variables=VARIABLES,
                    tenant="acme",
                )
                for j in range(i, min(n, i + 100))
            ],
            now,
        )
    base_batch_rate = n / (time.perf_counter() - t)
    print(
        f"API intake in batches of 100 (POST /notifications/batch): {batch_rate:,.0f} "
        f"notifications/s; the store alone {base_batch_rate:,.0f}/s "
        f"(API/store {batch_rate / base_batch_rate:.2f}); target >= 500/s"
    )
    print(
        f"API intake one by one: {api_rate:,.0f} notifications/s one client, "
        f"{par_rate:,.0f}/s with "
        f"{clients} clients; the store alone {base_rate:,.0f}/s "
        f"(API/store {api_rate / base_rate:.2f})"
    )

    # ---- pages at `rows` stored notifications ----
    t = time.perf_counter()
    seed(store, args.rows)
    print(f"seeded in {time.perf_counter() - t:.0f} s")
    if args.db == "sqlite":
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    anna, admin = login(base, "anna"), login(base, "admin")
    ids = [1_000_000 + i for i in random.Random(3).sample(range(args.rows), 100)]
    acme_ids = [i for i in range(1_000_000, 1_000_000 + args.rows, 4)]
    pick = random.Random(4).sample(acme_ids, 100)
    deep = 1_000_000 + args.rows // 2
    figures: list[tuple[str, float, float]] = []
    for who, client, cases in (
        (
            "manager",
            anna,
            [
                ("notifications, first page", ["/notifications"] * 100),
                ("notifications, status=declined", ["/notifications?status=declined"] * 100),
                (
                    "notifications, a page half-way (cursor)",
                    [f"/notifications?before={deep}"] * 100,
                ),
                (
                    "notifications, by ERP id",
                    [f"/notifications?erp_id=B-{i - 1_000_000}" for i in pick],
                ),
                ("one notification", [f"/notifications/{i}" for i in pick]),
            ],
        ),
        (
            "admin",
            admin,
            [
                ("notifications, first page", ["/notifications"] * 100),
                (
                    "notifications, status=pending, created since",
                    ["/notifications?status=pending&from=2026-06-01"] * 100,
                ),
                (
                    "notifications, by phone",
                    [f"/notifications?q=%2B7914{i:07d}" for i in range(100)],
                ),
                ("one notification", [f"/notifications/{i}" for i in ids]),
            ],
        ),
    ):
        for name, paths in cases:
            p50, p95 = timed(client, paths)
            figures.append((f"{who}: {name}", p50, p95))
    t = time.perf_counter()
    anna.get("/")
    dash = (time.perf_counter() - t) * 1000
    print(
        f"\npages at {args.rows:,} stored notifications (+{args.rows // 10:,} attempts), "
        f"100 requests each; target p95 <= 200 ms"
    )
    for name, p50, p95 in figures:
        mark = "ok" if p95 <= 200 else "SLOW"
        print(f"  {name:<55} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {mark}")
    print(f"  dashboard (counts over every row, once): {dash:.0f} ms")
    anna.close()
    admin.close()
    server.stop()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
