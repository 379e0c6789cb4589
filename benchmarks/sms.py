"""Messages per second through the SMPP gateway to a real SMPP server on loopback
(tests/sms_smsc/smsc.js), and whether a configured throttle holds.

    .venv/bin/python benchmarks/sms.py [--messages 2000] [--threads 8] [--rate 50]

1. unthrottled: N Cyrillic one-part messages from T sender threads, receipts on; prints
   submits/s and how many receipts came back matched to their message ids.
2. throttled: max_per_second = RATE on our side, first with an SMSC that does not limit (the
   rate must hold at RATE), then with one that answers ESME_RTHROTTLED above RATE per calendar
   second (we back off and lose nothing); prints the achieved rate and the throttle count.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "sms_smsc"))

from smsc import Smsc  # noqa: E402

from cuckoo.config.sms import SmppGatewaySettings  # noqa: E402
from cuckoo.sms.smpp import SmppGateway  # noqa: E402


def run(smsc: Smsc, messages: int, threads: int, rate: float) -> tuple[float, int, int]:
    """Send `messages` from `threads` threads; returns (seconds, accepted, receipts matched)."""
    settings = SmppGatewaySettings(
        port=smsc.port, system_id="bench", max_per_second=rate, submit_timeout_s=60
    )
    gw = SmppGateway("bench", settings)
    if not gw.wait_bound(10):
        raise SystemExit(f"cannot bind: {gw.last_error}")
    ids: set[str] = set()
    matched = 0
    done = threading.Event()
    lock = threading.Lock()
    receipts: list[str] = []

    def on_receipt(mid: str, status: str) -> None:
        with lock:
            receipts.append(mid)
            if len(receipts) >= messages:
                done.set()

    gw.set_receipt_handler(on_receipt)
    per_thread = [
        messages // threads + (1 if i < messages % threads else 0) for i in range(threads)
    ]

    def worker(w: int, n: int) -> None:
        for i in range(n):
            r = gw.send(f"+7915{w:03d}{i:04d}", f"Заказ {w}-{i} готов к выдаче", "Bench")
            if r.accepted and r.message_id:
                with lock:
                    ids.add(r.message_id)

    pool = [threading.Thread(target=worker, args=(w, n)) for w, n in enumerate(per_thread)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    done.wait(30)
    with lock:
        matched = len(ids.intersection(receipts))
    gw.close()
    return elapsed, len(ids), matched


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--rate", type=float, default=50.0, help="throttle for the second run")
    ap.add_argument("--throttled-messages", type=int, default=250)
    args = ap.parse_args()

    with Smsc.start() as smsc:
        smsc.set(quiet=True)
        secs, accepted, matched = run(smsc, args.messages, args.threads, 0)
        print(
            f"unthrottled: {accepted}/{args.messages} accepted in {secs:.2f} s "
            f"= {accepted / secs:.0f} msg/s ({args.threads} threads), "
            f"{matched} receipts matched to their ids"
        )

    n = args.throttled_messages
    for smsc_limit in (0, int(args.rate)):
        with Smsc.start() as smsc:
            smsc.set(quiet=True, max_tps=smsc_limit)
            secs, accepted, matched = run(smsc, n, args.threads, args.rate)
            stats = smsc.stats()
            limit = f"{smsc_limit}/s" if smsc_limit else "none"
            print(
                f"max_per_second = {args.rate:g}, SMSC limit {limit}: {accepted}/{n} "
                f"accepted in {secs:.2f} s = {accepted / secs:.1f} msg/s; "
                f"SMSC answered ESME_RTHROTTLED {stats['throttled']} times; "
                f"{matched} receipts matched"
            )


if __name__ == "__main__":
    main()
