"""`Worker`: one cuckoo worker built from the config — store, ERP adapters, channels and the
scheduler — with `start`, `stop` and `run_once`. `cuckoo run`, the demo and the tests all build
it here, so they run the same thing.

    worker = Worker(config, source=path).start()   # call workers up, jobs scheduled
    ...
    worker.stop()                                  # attempts in flight finish or are interrupted
    worker.close()                                 # channels, adapters, store
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from adapters import build_adapters
from cuckoo.clock import Clock, utcnow
from cuckoo.config import Config, locate
from cuckoo.domain import Channel, ChannelKind, ErpAdapter
from cuckoo.errors import ConfigError
from cuckoo.store import Store
from cuckoo.worker.channels import build_channels, close_channels, start_channels
from cuckoo.worker.journal import Journal
from cuckoo.worker.scheduler import CycleReport, Scheduler
from cuckoo.worker.store import open_store

log = logging.getLogger(__name__)


class Worker:
    """`channels` replaces the real channels (the dry run, a test's channels); `source` is the
    config file, so a bad adapter option is named with its file:line."""

    def __init__(
        self,
        config: Config,
        *,
        source: str | Path | None = None,
        channels: Mapping[ChannelKind, Channel] | None = None,
        clock: Clock = utcnow,
        owner: str | None = None,
        store: Store | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store or open_store(config)
        self.channels: dict[ChannelKind, Channel] = {}
        self.adapters: list[ErpAdapter] = []
        try:
            if channels is None:
                channels = build_channels(config, self.store, clock=clock)
            self.channels = dict(channels)
            self.adapters = self._adapters(source)
        except BaseException:
            self.close()
            raise
        # Results wait here (fsync'ed) until the store took them: see cuckoo.worker.journal.
        self.journal = Journal(config.path(config.var_dir) / "journal")
        self.scheduler = Scheduler(
            self.store,
            self.channels,
            self.adapters,
            config.scheduler,
            clock=clock,
            owner=owner,
            journal=self.journal,
            retention_days=config.store.retention_days,
        )

    def _adapters(self, source: str | Path | None) -> list[ErpAdapter]:
        try:
            return list(build_adapters(self.config.adapters, self.config.base_dir).values())
        except ConfigError as e:
            raise ConfigError(locate(str(e), source)) from e

    @property
    def owner(self) -> str:
        return self.scheduler.owner

    def start(self) -> Worker:
        """Start the channels (call workers up, the voice warm) and the scheduler's jobs."""
        start_channels(self.channels)
        self.scheduler.start()
        log.info(
            "worker %s running: channels %s, adapters %s",
            self.owner,
            ", ".join(sorted(self.channels)) or "none",
            ", ".join(a.name for a in self.adapters) or "none",
        )
        return self

    def health(self) -> str | None:
        """None while the scheduler runs its jobs; else what is wrong (see Scheduler.health)."""
        return self.scheduler.health()

    def run_once(self, timeout: float | None = None) -> CycleReport:
        """One poll + dispatch + flush cycle (`cuckoo run --once`)."""
        start_channels(self.channels)
        report = self.scheduler.run_once(timeout=timeout)
        if report.errors:
            self.scheduler.stop(grace_s=0)
        return report

    def stop(self, grace_s: float | None = None) -> int:
        """Stop scheduling; returns how many attempts in flight were recorded as interrupted."""
        return self.scheduler.stop(grace_s=grace_s)

    def close(self) -> None:
        for adapter in self.adapters:
            close = getattr(adapter, "close", None)
            if callable(close):
                close()
        close_channels(self.channels)
        journal = getattr(self, "journal", None)  # absent when __init__ failed early
        if journal is not None:
            journal.close()
        self.store.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
