"""End-to-end benchmark: the whole robot (sample SQL ERP → store → scheduler → call workers with
the Festival voice over SIP/RTP → simulated phones → results written back to the ERP).

    .venv/bin/python benchmarks/e2e.py                 # 24 customers
    .venv/bin/python benchmarks/e2e.py -n 40 --poll 0.5

Every simulated customer answers after 0.5 s and presses 1 during the message (the
documents_sent scenario): the robot says the opening, hears the key, thanks, hangs up, and the
result goes back to the ERP. Printed:
- notifications completed per minute (flag in the ERP → final result written back to the ERP);
- time from the ERP flag to the first ring (INVITE at the phone), and per customer p50/p95;
- flag → result in the ERP per customer (p50/p95).

Limits to read the figures by: the simulated phones are one pjsua2 process, which takes at most
4 calls at a time (the pjsua2 wheel's compiled-in limit), so the robot places at most 4 calls at
a time here; the ERP is polled every --poll seconds (the first-ring time includes up to one
poll interval). Times are CLOCK_MONOTONIC, shared by this process and the phone's events.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-n", "--customers", type=int, default=24)
    ap.add_argument("--poll", type=float, default=1.0, help="ERP poll interval, s (default 1)")
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()

    from cuckoo.demo.cast import DOCS, Customer, Expected, documents, phones_script
    from cuckoo.demo.rig import Rig, RigOptions
    from cuckoo.domain import Outcome, Status

    cast = [
        Customer(
            "Клиент", f"Номер{i}", None, f"+7 912 200-{i // 100:02d}-{i % 100:02d}", None, "Москва",
            "documents_sent", f"Б-{i:05d}", "presses 1",
            [{"action": "answer", "answer_after_s": 0.5,
              "dtmf": [{"at_s": 1.0, "keys": "1", "method": "rfc2833"}]}],
            Expected(Status.CONFIRMED, Outcome.CONFIRMED, 1, 1, calls=1),
            DOCS,
        )
        for i in range(args.customers)
    ]
    with tempfile.TemporaryDirectory(prefix="cuckoo-bench-e2e-") as tmp:
        rig = Rig(Path(tmp), phones_script(cast), RigOptions(speed=60.0, poll_s=args.poll))
        t0 = time.monotonic()
        rig.start()
        print(f"rig up in {time.monotonic() - t0:.1f} s (phones, call worker, Festival warm-up)")
        try:
            t_flag = time.monotonic()
            rig.flag(documents(cast))
            ids = rig.document_ids()
            ext = {c.number: str(ids[c.number]) for c in cast}
            done_at: dict[str, float] = {}
            deadline = t_flag + args.timeout
            while len(done_at) < len(cast) and time.monotonic() < deadline:
                rows = rig.erp_query(
                    "SELECT DISTINCT document_id FROM notify_results WHERE status = 'confirmed'"
                )
                now = time.monotonic()
                for r in rows:
                    done_at.setdefault(str(r["document_id"]), now)
                time.sleep(0.1)
            t_end = time.monotonic()
            bad = [c.number for c in cast if (r := rig.row(ext[c.number])) is None
                   or r.status != Status.CONFIRMED.value]
        finally:
            rig.stop()
        events = rig.phone_events()
    rings = sorted(e["t"] for e in events if e["event"] == "incoming")
    first_ring: dict[str, float] = {}
    for e in events:
        if e["event"] == "incoming":
            first_ring.setdefault(e["user"], e["t"])
    flag_to_ring = [t - t_flag for t in first_ring.values()]
    flag_to_erp = [t - t_flag for t in done_at.values()]
    wall = (max(done_at.values()) if done_at else t_end) - t_flag
    print(f"customers:                 {len(cast)} (all answer and press 1), "
          f"max 4 calls at a time, ERP polled every {args.poll:g} s")
    print(f"completed:                 {len(done_at)} / {len(cast)} confirmed in the ERP"
          + (f"; NOT confirmed: {', '.join(bad)}" if bad else ""))
    print(f"wall time flag → last:     {wall:.1f} s")
    print(f"notifications per minute:  {60 * len(done_at) / wall:.1f}")
    if rings:
        print(f"ERP flag → first ring:     {rings[0] - t_flag:.2f} s")
        print(f"flag → ring per customer:  p50 {pct(flag_to_ring, 50):.1f} s, "
              f"p95 {pct(flag_to_ring, 95):.1f} s")
    if flag_to_erp:
        print(f"flag → result in the ERP:  p50 {pct(flag_to_erp, 50):.1f} s, "
              f"p95 {pct(flag_to_erp, 95):.1f} s, mean {statistics.mean(flag_to_erp):.1f} s")
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
