"""`cuckoo demo`: the whole robot end to end on this machine, no configuration needed."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run the robot against a sample ERP and simulated phones; exit 0 if all is right",
        description=(
            "Starts a sample shop ERP (SQLite), simulated customer phones on loopback and the "
            "real worker (store, scheduler, call workers speaking Russian over SIP/RTP) on a "
            "fast clock; shows live progress; checks every customer's result and the ERP's "
            "written-back results. Needs no cuckoo.toml."
        ),
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the work folder (ERP, store, the generated cuckoo.toml, events)",
    )
    p.add_argument(
        "--dir",
        type=Path,
        metavar="PATH",
        help="work folder: new, empty, or one an earlier demo made (emptied first);"
        " default: a new temporary folder",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=60.0,
        metavar="N",
        help="demo clock speed: cuckoo's time runs N times faster (default 60)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=150.0,
        metavar="SECONDS",
        help="give up waiting for the customers after this long (default 150)",
    )
    p.add_argument(
        "--serve",
        nargs="?",
        const="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="after the run, keep the web console up on the demo's calls (default "
        "127.0.0.1:8080), with a one-time password; Ctrl-C stops it",
    )
    p.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    p.add_argument(
        "--verbose",
        dest="demo_verbose",
        action="store_true",
        help="log what the worker does (same as cuckoo -v demo)",
    )
    p.set_defaults(func=demo_cmd)


def demo_cmd(args: argparse.Namespace) -> int:
    from cuckoo.demo import run_demo  # the whole worker and pjsua2: only for this command

    verbose = bool(args.demo_verbose or getattr(args, "verbose", False))
    root = logging.getLogger()
    if not verbose:
        # The progress table is the output; the worker's INFO lines would tear it.
        root.setLevel(logging.WARNING)
        for name in ("apscheduler", "cuckoo.worker.scheduler", "cuckoo.store"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # The demo has no SMS customers: "SMS channel off" is expected, not a warning here.
        logging.getLogger("cuckoo.worker.channels").setLevel(logging.ERROR)
    live = False if (args.plain or verbose) else None
    return run_demo(
        keep=args.keep,
        workdir=args.dir,
        speed=args.speed,
        timeout_s=args.timeout,
        live=live,
        serve=args.serve,
    )
