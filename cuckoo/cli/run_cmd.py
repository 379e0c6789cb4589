"""`cuckoo run`: the worker. Polls the ERPs, calls/texts due customers, reports results.

Channels (`--channel`):
- not given: the real call/SMS channels, from `cuckoo.worker.channels.build_channels(config)`;
- `dry-run`: log what would be said or sent, call nobody (cuckoo/worker/dry_run.py);
- `MODULE:FACTORY` or `path/to/file.py:FACTORY`: a channel factory of your own (tests use this):
  `FACTORY(config) -> Channel | Mapping[ChannelKind, Channel]`.
Several workers may run against one PostgreSQL database; give each its own `--owner` (default
hostname:pid).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Mapping
from types import FrameType
from typing import TYPE_CHECKING, Any

from cuckoo.clock import Clock, ScaledClock, utcnow
from cuckoo.config import Config, config_path, load
from cuckoo.config.objects import load_object
from cuckoo.domain import Channel, ChannelKind
from cuckoo.errors import ConfigError
from cuckoo.worker.sdnotify import Notifier, serve
from cuckoo.worker.store import open_store

if TYPE_CHECKING:  # imported by the command itself: pjsua2, the voice, uvicorn
    from cuckoo.web.server import BackgroundServer
    from cuckoo.worker.worker import Worker

log = logging.getLogger("cuckoo.run")


def register(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run the worker until SIGINT/SIGTERM",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--once",
        action="store_true",
        help="one poll + dispatch + flush cycle, then exit: 0 if it went cleanly, 1 if the "
        "cycle had errors (an ERP unreachable, a failed write-back, ...; listed on stderr)",
    )
    run.add_argument(
        "--channel",
        metavar="dry-run|MODULE:FACTORY|FILE.py:FACTORY",
        help="deliver with the dry-run channel or a channel factory (default: real channels)",
    )
    run.add_argument("--owner", help="worker id in leases (default: [scheduler] owner or host:pid)")
    run.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        metavar="N",
        help="demo clock: time runs N times faster (retries and windows come sooner); "
        "every worker on one database must use the same speed (leases are in clock time)",
    )
    run.add_argument(
        "--timeout", type=float, default=600.0, help="--once: wait this long for attempts"
    )
    run.set_defaults(func=cmd_run)


def custom_channels(config: Config, spec: str, clock: Clock) -> dict[ChannelKind, Channel]:
    """`--channel dry-run` or a channel factory `FACTORY(config) -> Channel | {kind: Channel}`."""
    from cuckoo.worker.channels import dry_run_channels  # see cmd_run

    if spec == "dry-run":
        return dry_run_channels(config, clock)
    if ":" not in spec:
        raise ConfigError(f"--channel {spec!r}: expected dry-run or MODULE:FACTORY")
    made = load_object(spec, "--channel")(config)
    if isinstance(made, Mapping):
        return {ChannelKind(k): v for k, v in made.items()}
    if isinstance(made, Channel):
        return {ChannelKind(made.kind): made}
    raise ConfigError(f"--channel {spec!r}: the factory returned {made!r}, not a Channel")


def cmd_run(args: argparse.Namespace) -> int:
    # The worker brings pjsua2, the voice and the SMS stacks: imported by the command that
    # runs it, so the other commands (and `cuckoo --help`) start without them.
    from cuckoo.worker.dry_run import dry_run_once
    from cuckoo.worker.worker import Worker  # (the same cost as the line above)

    if not args.verbose:  # APScheduler logs every job run at INFO
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    source = config_path(args.config)
    config = load(source)
    clock: Clock = ScaledClock(args.clock_speed) if args.clock_speed != 1.0 else utcnow
    store = open_store(config)
    try:
        channels = custom_channels(config, args.channel, clock) if args.channel else None
    except BaseException:
        store.close()
        raise
    with Worker(
        config, source=source, channels=channels, clock=clock, owner=args.owner, store=store
    ) as worker:
        if args.channel == "dry-run":  # one cycle on paper: the store is only read
            dry = dry_run_once(worker.store, worker.adapters, worker.channels, clock())
            print(
                f"dry run: ERP rows {dry.erp_rows} ({dry.would_store} would be stored, "
                f"{dry.would_refuse} refused, {dry.known} stored already), "
                f"{dry.would_attempt} attempts shown; nothing was changed"
            )
            for err in dry.errors:
                print(f"error: {err}", file=sys.stderr)
            return 1 if dry.errors else 0
        if args.once:
            report = worker.run_once(timeout=args.timeout)
            print(
                f"ingested {report.ingested}, dispatched {report.dispatched}, "
                f"reported {report.reported}, reaped {report.reaped}"
            )
            for err in report.errors:
                print(f"error: {err}", file=sys.stderr)
            return 1 if report.errors else 0
        stop = threading.Event()

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: stopping", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        # Under systemd (Type=notify): READY, the watchdog, STOPPING; elsewhere a no-op.
        notifier = Notifier.from_env()
        notifier.status("starting: call workers, voice, channels")
        worker.start()
        console = start_console(config, worker)

        def status() -> str:
            return f"running: worker {worker.owner}, {worker.scheduler.in_flight()} in flight"

        notifier.ready(status())
        serve(notifier, stop, worker.health, status)
        notifier.stopping(
            f"stopping: up to {config.scheduler.shutdown_grace_s:.0f} s for "
            f"{worker.scheduler.in_flight()} attempts in flight"
        )
        if console is not None:
            console.stop()
        interrupted = worker.stop()
        log.info("clean shutdown; %d attempts recorded as interrupted", interrupted)
        return 0


def start_console(config: Config, worker: Worker) -> BackgroundServer | None:
    """The web console beside the worker when [web] listen is set; its /healthz tells the
    worker's health and /metrics its ERP poll errors."""
    if not config.web.listen:
        return None
    from cuckoo.web import need_web  # FastAPI, uvicorn, argon2: the [web] extra

    need_web()
    from cuckoo.web.context import WebContext  # FastAPI, uvicorn, argon2: the [web] extra
    from cuckoo.web.server import BackgroundServer  # FastAPI, uvicorn, argon2: the [web] extra

    ctx = WebContext(
        worker.store,
        config,
        worker_health=worker.health,
        erp_poll_errors=lambda: dict(worker.scheduler.erp_poll_errors),
        tts_counts=getattr(worker.channels.get(ChannelKind.CALL), "tts_counts", None),
    )
    server = BackgroundServer(ctx, config.web.listen).start()
    log.info("web console on http://%s", config.web.listen)
    return server
