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
import importlib
import importlib.util
import logging
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from cuckoo.domain import Channel, ChannelKind, Notification
from cuckoo.errors import ConfigError, CuckooError

if TYPE_CHECKING:
    from cuckoo.clock import Clock
    from cuckoo.config import Config
    from cuckoo.domain import ErpAdapter
    from cuckoo.store import Store

log = logging.getLogger("cuckoo.run")


def register(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run the worker until SIGINT/SIGTERM",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--once", action="store_true", help="one poll + dispatch + flush cycle, then exit"
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


def load_factory(spec: str) -> Any:
    """'pkg.module:name' or 'path/to/file.py:name' → the object."""
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise ConfigError(f"--channel {spec!r}: expected dry-run or MODULE:FACTORY")
    try:
        if target.endswith(".py"):
            path = Path(target).resolve()
            mod_spec = importlib.util.spec_from_file_location(path.stem, path)
            if mod_spec is None or mod_spec.loader is None:
                raise ConfigError(f"--channel {spec!r}: cannot load {path}")
            module = importlib.util.module_from_spec(mod_spec)
            mod_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except (ImportError, OSError) as e:
        raise ConfigError(f"--channel {spec!r}: cannot import {target}: {e}") from e
    try:
        return getattr(module, name)
    except AttributeError as e:
        raise ConfigError(f"--channel {spec!r}: {target} has no {name!r}") from e


def as_channel_map(made: Any, spec: str) -> dict[ChannelKind, Channel]:
    if isinstance(made, Mapping):
        return {ChannelKind(k): v for k, v in made.items()}
    if isinstance(made, Channel):
        return {ChannelKind(made.kind): made}
    raise ConfigError(f"--channel {spec!r}: the factory returned {made!r}, not a Channel")


def dry_run_render(config: Config) -> Callable[[Notification], list[str]]:
    """The dry-run channel's text: what the call would say up to the first answer, or the SMS
    text, rendered from the notification's scenario and variables."""
    from cuckoo.dialog.catalog import ScenarioCatalog
    from cuckoo.worker.dry_run import default_render

    catalog = ScenarioCatalog(config.path(config.scenarios_dir))

    def render(n: Notification) -> list[str]:
        try:
            if n.channel == ChannelKind.SMS:
                return [catalog.sms_text(n.scenario, dict(n.variables))]
            return catalog.preview_call(n.scenario, dict(n.variables), n.timezone)
        except CuckooError as e:  # a dry run reports what a real attempt would trip over
            return [f"cannot render scenario {n.scenario!r}: {e}", *default_render(n)]

    return render


def build_channels(
    config: Config,
    spec: str | None,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    config_path: str | None = None,
) -> dict[ChannelKind, Channel]:
    if spec == "dry-run":
        from cuckoo.worker.dry_run import dry_run_channels

        return dry_run_channels(render=dry_run_render(config), clock=clock)
    if spec:
        return as_channel_map(load_factory(spec)(config), spec)
    try:
        real = importlib.import_module("cuckoo.worker.channels")
    except ModuleNotFoundError as e:
        if e.name != "cuckoo.worker.channels":
            raise
        raise ConfigError(
            "no real call/SMS channel is wired in (cuckoo.worker.channels); "
            "use `cuckoo run --channel dry-run`"
        ) from e
    made = real.build_channels(config, store=store, clock=clock, config_path=config_path)
    return as_channel_map(made, "cuckoo.worker.channels:build_channels")


def close_channels(channels: Mapping[ChannelKind, Channel]) -> None:
    """Stop channels that hold processes or connections (call workers, SMS gateways)."""
    if importlib.util.find_spec("cuckoo.worker.channels") is not None:
        from cuckoo.worker.channels import close_channels as close_real

        close_real(dict(channels))
        return
    for ch in channels.values():
        close = getattr(ch, "close", None)
        if callable(close):
            close()


def build_adapters(config: Config, source: str | Path | None = None) -> list[ErpAdapter]:
    """The enabled adapters; a bad option is named with `source`'s file:line."""
    from cuckoo.config import locate

    wanted = {name: s for name, s in config.adapters.items() if s.enabled}
    if not wanted:
        return []
    try:
        from adapters import build_adapter
    except ImportError as e:
        raise ConfigError(f"cannot load the ERP adapters package: {e}") from e
    try:
        return [build_adapter(name, s, config.base_dir) for name, s in wanted.items()]
    except ConfigError as e:
        raise ConfigError(locate(str(e), source)) from e


def config_file(explicit: str | None) -> str | None:
    """The cuckoo.toml that load() reads, for channels that start processes of their own."""
    from cuckoo.config import config_path

    path = config_path(explicit)
    return str(path.resolve()) if path else None


def cmd_run(args: argparse.Namespace) -> int:
    from cuckoo.cli.store_cmds import open_store
    from cuckoo.clock import ScaledClock, utcnow
    from cuckoo.config import config_path, load
    from cuckoo.worker.scheduler import Scheduler

    if not args.verbose:  # APScheduler logs every job run at INFO
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    config = load(args.config)
    clock: Clock = ScaledClock(args.clock_speed) if args.clock_speed != 1.0 else utcnow
    store = open_store(config)
    channels: dict[ChannelKind, Channel] = {}
    adapters: list[ErpAdapter] = []
    try:
        channels = build_channels(
            config, args.channel, store=store, clock=clock, config_path=config_file(args.config)
        )
        for ch in channels.values():
            start = getattr(ch, "start", None)
            if callable(start):
                start()  # e.g. call workers up before the first claim
        adapters = build_adapters(config, config_path(args.config))
        scheduler = Scheduler(
            store, channels, adapters, config.scheduler, clock=clock, owner=args.owner
        )
        if args.once:
            report = scheduler.run_once(timeout=args.timeout)
            print(
                f"ingested {report.ingested}, dispatched {report.dispatched}, "
                f"reported {report.reported}, reaped {report.reaped}"
            )
            for err in report.errors:
                print(f"warning: {err}")
            if report.errors:
                scheduler.stop(grace_s=0)
            return 0
        stop = threading.Event()

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: stopping", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        scheduler.start()
        log.info(
            "worker %s running: channels %s, adapters %s",
            scheduler.owner,
            ", ".join(sorted(channels)) or "none",
            ", ".join(a.name for a in adapters) or "none",
        )
        while not stop.wait(1.0):
            pass
        interrupted = scheduler.stop()
        log.info("clean shutdown; %d attempts recorded as interrupted", interrupted)
        return 0
    finally:
        for adapter in adapters:
            close = getattr(adapter, "close", None)
            if callable(close):
                close()
        close_channels(channels)
        store.close()
