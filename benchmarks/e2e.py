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

Limits to read the figures by: one simulated-phone process takes at most 4 calls at a time
(the pjsua2 wheel's compiled-in limit). With --phones 1 (default) the robot dials it directly
and places at most 4 calls at a time. With --phones K the robot dials a kamailio proxy on
loopback (the "PBX"), which spreads the calls over K phone processes by the number's last
digit, and the robot runs K call workers (4·K calls at a time). The ERP is polled every --poll
seconds (the first-ring time includes up to one poll interval). Times are CLOCK_MONOTONIC,
shared by this process and the phones' events. Everything runs on this one machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


KAMAILIO_CFG = """#!KAMAILIO
debug=1
log_stderror=yes
children=2
auto_aliases=no
listen=udp:127.0.0.1:{port}
alias="127.0.0.1:{port}"
mpath="{mpath}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route() || is_method("ACK|BYE")) {{ t_relay(); exit; }}
        sl_send_reply("404", "Not here"); exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("INVITE")) {{
        record_route();
{routes}
        t_relay(); exit;
    }}
    sl_send_reply("405", "Method Not Allowed");
}}
"""


def kamailio_rig(base: Any, phones: int) -> Any:
    """A Rig whose "trunk" is kamailio spreading calls over `phones` phone processes."""
    import json
    import os
    import signal
    import socket
    import subprocess

    class ProxiedRig(base):
        def start_phones(self) -> None:
            script = self.workdir / "phones.json"
            script.write_text(json.dumps(self.phones_script, ensure_ascii=False), "utf-8")
            self.events_path.write_text("")
            self.procs: list[subprocess.Popen[bytes]] = []
            ports = []
            for k in range(phones):
                ev = self.workdir / f"phone{k}.jsonl"
                ev.write_text("")
                self.procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "cuckoo.demo.phone",
                            "--script",
                            str(script),
                            "--events",
                            str(ev),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        cwd=REPO,
                    )
                )
                deadline = time.monotonic() + 20
                while '"ready"' not in ev.read_text():
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"phone {k} did not start")
                    time.sleep(0.05)
                ports.append(json.loads(ev.read_text().splitlines()[0])["port"])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", 0))
                kport = s.getsockname()[1]
            digits = [[d for d in "0123456789" if int(d) % phones == k] for k in range(phones)]
            # (phone_of gives customers last digits 0..phones-1: one digit per phone)
            routes = "\n".join(
                f'        if ($rU =~ "[{"".join(ds)}]$") {{ $du = "sip:127.0.0.1:{port}"; }}'
                for ds, port in zip(digits, ports, strict=True)
            )
            cfg = self.workdir / "kamailio.cfg"
            mpath = next(iter(sorted(Path("/usr/lib").glob("*/kamailio/modules"))), None)
            cfg.write_text(KAMAILIO_CFG.format(port=kport, routes=routes, mpath=f"{mpath}/"))
            (self.workdir / "kam").mkdir()
            self.kam = subprocess.Popen(
                [
                    # Debian installs it in /usr/sbin, which a non-root PATH lacks
                    shutil.which("kamailio", path=os.environ["PATH"] + ":/usr/sbin:/sbin")
                    or "kamailio",
                    "-f",
                    str(cfg),
                    "-DD",
                    "-E",
                    "-Y",
                    str(self.workdir / "kam"),
                    "-m",
                    "64",
                    "-M",
                    "8",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.5)
            if self.kam.poll() is not None:
                raise RuntimeError("kamailio did not start")
            self.phone_port = kport

        def stop(self) -> None:
            super().stop()
            for p in [*getattr(self, "procs", []), getattr(self, "kam", None)]:
                if p is not None and p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(10)
                    except subprocess.TimeoutExpired:
                        os.kill(p.pid, signal.SIGKILL)
            # one events file for the figures
            lines = []
            for k in range(phones):
                lines += (self.workdir / f"phone{k}.jsonl").read_text().splitlines()
            self.events_path.write_text("\n".join(lines) + "\n")

    return ProxiedRig


def phone_of(i: int, phones: int) -> str:
    """Customer i's number; its last digit is i mod `phones`, so the proxy, which routes by
    the last digit, gives consecutive customers to different phone processes in turn."""
    return f"+7912{2000000 + 10 * i + i % phones:07d}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-n", "--customers", type=int, default=24)
    ap.add_argument("--poll", type=float, default=1.0, help="ERP poll interval, s (default 1)")
    ap.add_argument(
        "--phones",
        type=int,
        default=1,
        help="simulated-phone processes (4 calls each); >1 puts kamailio between",
    )
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()
    import logging

    logging.basicConfig(level=logging.ERROR)  # the figures are the output

    from cuckoo.demo.cast import DOCS, Customer, Expected, documents, phones_script
    from cuckoo.demo.rig import Rig, RigOptions
    from cuckoo.domain import Outcome, Status

    cast = [
        Customer(
            "Клиент",
            f"Номер{i}",
            None,
            phone_of(i, max(1, args.phones)),
            None,
            "Москва",
            "documents_sent",
            f"Б-{i:05d}",
            "presses 1",
            [
                {
                    "action": "answer",
                    "answer_after_s": 0.5,
                    "dtmf": [{"at_s": 1.0, "keys": "1", "method": "rfc2833"}],
                }
            ],
            Expected(Status.CONFIRMED, Outcome.CONFIRMED, 1, 1, calls=1),
            DOCS,
        )
        for i in range(args.customers)
    ]
    with tempfile.TemporaryDirectory(prefix="cuckoo-bench-e2e-") as tmp:
        cls = Rig if args.phones <= 1 else kamailio_rig(Rig, args.phones)
        k = max(1, args.phones)
        opts = RigOptions(speed=60.0, poll_s=args.poll, call_workers=k, max_calls=4 * k)
        rig = cls(Path(tmp), phones_script(cast), opts)
        t0 = time.monotonic()
        rig.start()
        print(f"rig up in {time.monotonic() - t0:.1f} s (phones, call workers, voice warm-up)")
        try:
            t_flag = time.monotonic()
            rig.flag(documents(cast))
            ids = rig.document_ids()
            ext = {c.number: str(ids[c.number]) for c in cast}
            done_at: dict[str, float] = {}
            deadline = t_flag + args.timeout
            final: dict[str, float] = {}  # any final result, confirmed or not
            while len(final) < len(cast) and time.monotonic() < deadline:
                rows = rig.erp_query(
                    "SELECT DISTINCT document_id, status FROM notify_results"
                    " WHERE status NOT IN ('pending', 'active')"
                )
                now = time.monotonic()
                for r in rows:
                    final.setdefault(str(r["document_id"]), now)
                    if r["status"] == "confirmed":
                        done_at.setdefault(str(r["document_id"]), now)
                time.sleep(0.1)
            t_end = time.monotonic()
            bad = [
                f"{c.number} ({r.status if r else 'not ingested'}: {r.last_outcome if r else ''})"
                for c in cast
                if (r := rig.row(ext[c.number])) is None or r.status != Status.CONFIRMED.value
            ]
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
    print(
        f"customers:                 {len(cast)} (all answer and press 1), "
        f"max {4 * max(1, args.phones)} calls at a time"
        + (f" through kamailio to {args.phones} phone processes" if args.phones > 1 else "")
        + f", ERP polled every {args.poll:g} s"
    )
    print(
        f"completed:                 {len(done_at)} / {len(cast)} confirmed in the ERP"
        + (f"; NOT confirmed: {', '.join(bad)}" if bad else "")
    )
    print(f"wall time flag → last:     {wall:.1f} s")
    print(f"notifications per minute:  {60 * len(done_at) / wall:.1f}")
    if rings:
        print(f"ERP flag → first ring:     {rings[0] - t_flag:.2f} s")
        print(
            f"flag → ring per customer:  p50 {pct(flag_to_ring, 50):.1f} s, "
            f"p95 {pct(flag_to_ring, 95):.1f} s"
        )
    if flag_to_erp:
        print(
            f"flag → result in the ERP:  p50 {pct(flag_to_erp, 50):.1f} s, "
            f"p95 {pct(flag_to_erp, 95):.1f} s, mean {statistics.mean(flag_to_erp):.1f} s"
        )
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
