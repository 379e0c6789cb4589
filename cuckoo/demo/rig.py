"""Everything the demo, the end-to-end tests and the benchmark run: a sample SQL ERP (SQLite
file), a store (SQLite file), simulated customer phones on loopback (their own process), the
real call channel (telephony worker processes running the dialog) and the scheduler with a fast
clock. No cuckoo.toml is needed: the rig writes its own into its work folder.

    rig = Rig(workdir, phones_script, speed=60).start()
    rig.flag(documents)          # managers tick "notify by call" in the ERP
    ... rig.row(external_id), rig.erp_results(), rig.phone_events()
    rig.stop()
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from adapters.samples.erp import create_sample_erp
from cuckoo.clock import Clock, ScaledClock, utcnow
from cuckoo.config import Config, load
from cuckoo.domain import Channel, ChannelKind, JsonObject
from cuckoo.resources import shipped
from cuckoo.store import Store
from cuckoo.worker.store import open_store
from cuckoo.worker.worker import Worker

log = logging.getLogger("cuckoo.demo")

SOURCE = "shop"  # the demo ERP adapter's name (the notifications' `source`)

ALWAYS_OPEN = "00:00-24:00"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def repo_dir() -> Path:
    return Path(__file__).resolve().parents[2]


def scenarios_dir() -> Path:
    """The shipped scenarios: the source tree's folder, or the installed wheel's copy."""
    return shipped("scenarios")


def toml_text(data: Mapping[str, Any], prefix: str = "") -> str:
    """A small TOML writer for the rig's own config (str, int, float, bool, lists, tables)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str | Path):
            return json.dumps(str(v), ensure_ascii=False)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, Mapping):  # inline table (lists of tables, e.g. dial_plan)
            return "{" + ", ".join(f"{json.dumps(str(k))} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(f"cannot write {type(v).__name__} to TOML")

    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for k, v in data.items():
        if isinstance(v, Mapping):
            tables.append((k, v))
        else:
            lines.append(f"{json.dumps(str(k))} = {value(v)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in tables:
        name = f"{prefix}.{json.dumps(k)}" if prefix else json.dumps(k)
        body = toml_text(v, name)
        out += f"\n[{name}]\n{body}"
    return out


@dataclass
class RigOptions:
    speed: float = 60.0  # demo clock: 1 wall second = `speed` seconds of cuckoo's time
    start_at: datetime | None = None  # the demo clock's start (default: now)
    max_attempts: int = 3
    max_contacts: int = 3
    retry_minutes: int = 1  # every retry interval (cuckoo time; 1 minute is the minimum)
    ring_timeout_s: float = 4.0  # wall seconds of ringing before the robot gives up
    # The simulated phones are one pjsua2 process, which takes at most 4 calls at a time (a 5th
    # INVITE gets 486 Busy Here), so the robot places at most `max_calls` = 4 at a time. It has
    # two call workers all the same: a call the robot gave up ringing keeps its worker's pjsua
    # slot for ~32 s, and the second worker keeps the others going meanwhile.
    max_calls: int = 4
    call_workers: int = 2
    calls_per_worker: int = 4
    poll_s: float = 1.0  # ERP poll interval (wall)
    sms_gateway: JsonObject | None = None  # e.g. {"type": "smpp", "port": 2775, ...}
    tenant_timezone: str = "Europe/Moscow"
    extra_policy: JsonObject = field(default_factory=dict)
    record: bool = False  # record every call (stereo WAV) under <workdir>/recordings


class Rig:
    def __init__(
        self, workdir: Path, phones: JsonObject, options: RigOptions | None = None
    ) -> None:
        self.workdir = workdir.resolve()
        self.phones_script = phones
        self.o = options or RigOptions()
        self.erp_url = f"sqlite:///{self.workdir / 'erp.sqlite'}"
        self.store_url = f"sqlite:///{self.workdir / 'cuckoo.sqlite'}"
        self.config_path = self.workdir / "cuckoo.toml"
        self.events_path = self.workdir / "phone-events.jsonl"
        self.phone_proc: subprocess.Popen[bytes] | None = None
        self.phone_port = 0
        self.store: Store | None = None
        self.worker: Worker | None = None
        self.clock: Clock | None = None
        self.config: Config | None = None
        self._stderr: IO[str] | None = None

    # ---- set-up ------------------------------------------------------------------------------

    def config_data(self) -> JsonObject:
        o = self.o
        every = {day: ALWAYS_OPEN for day in WEEKDAYS}
        retry_after = {
            k: o.retry_minutes
            for k in (
                "delivered",
                "busy",
                "no_answer",
                "rejected",
                "network",
                "voicemail",
                "interrupted",
                "undeliverable",
                "callback",
            )
        }
        data: JsonObject = {
            "scenarios_dir": str(scenarios_dir()),
            "voices_dir": str(shipped("voices")),
            "models_dir": str(Path("var/models").resolve()),
            "var_dir": str(self.workdir),
            "store": {"url": self.store_url},
            "scheduler": {
                "owner": "demo",
                "poll_interval_s": o.poll_s,
                "dispatch_interval_s": 0.2,
                "outbox_interval_s": 0.5,
                "sms_request_interval_s": 0.5,  # SMS asked for in calls go out at once
                "reap_interval_s": 5.0,
                "lease_s": 60.0,  # real seconds; the scheduler scales it to the demo clock
                "max_concurrent": min(o.max_calls, o.call_workers * o.calls_per_worker),
                "calls_per_second": 5.0,
                "burst": o.max_calls,
                "shutdown_grace_s": 5.0,
            },
            "policy": {
                "default_timezone": o.tenant_timezone,
                "retry": {
                    "max_attempts": o.max_attempts,
                    "max_contacts": o.max_contacts,
                    "max_sms_attempts": 2,
                    "callback_min_delay": 1,
                    "retry_after": retry_after,
                },
                "window": {**every, "skip_holidays": False},
                "sms_window": {**every, "skip_holidays": False},
                **o.extra_policy,
            },
            "telephony": {
                "bind_host": "127.0.0.1",
                "ring_timeout_s": o.ring_timeout_s,
                "setup_timeout_s": 5.0,
                "max_call_s": 120.0,
                "rtp_timeout_s": 10.0,
                "workers": o.call_workers,
                "calls_per_worker": o.calls_per_worker,
                "calls_per_second": 10.0,
                "trunk": {"domain": f"127.0.0.1:{self.phone_port}"},
                **({"record_dir": str(self.workdir / "recordings")} if o.record else {}),
            },
            "adapters": {
                SOURCE: {
                    "type": "sql",
                    "url": self.erp_url,
                    "erp_timezone": o.tenant_timezone,
                }
            },
        }
        if o.sms_gateway is not None:
            data["sms"] = {"sender": "Cuckoo", "gateways": {"demo": o.sms_gateway}}
        return data

    def start_phones(self) -> None:
        script = self.workdir / "phones.json"
        script.write_text(json.dumps(self.phones_script, ensure_ascii=False, indent=1), "utf-8")
        self.events_path.write_text("")
        self._stderr = open(self.workdir / "phone-stderr.log", "w", encoding="utf-8")  # noqa: SIM115
        self.phone_proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cuckoo.demo.phone",
                "--script",
                str(script),
                "--events",
                str(self.events_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            cwd=repo_dir(),
        )
        ready = self.wait_phone_event("ready", timeout=20.0)
        self.phone_port = int(ready["port"])

    def start(self) -> Rig:
        self.workdir.mkdir(parents=True, exist_ok=True)
        create_sample_erp(self.erp_url, documents=[])
        self.start_phones()
        self.config_path.write_text(
            "# Written by `cuckoo demo` for this run only.\n" + toml_text(self.config_data()),
            "utf-8",
        )
        config = load(self.config_path)
        self.config = config
        store = open_store(config, check_schema=False)
        store.upgrade()
        start_at = self.o.start_at
        base: Clock = utcnow
        if start_at is not None:
            t0 = utcnow()
            base = lambda: start_at + (utcnow() - t0)  # noqa: E731
        self.clock = ScaledClock(self.o.speed, base)
        self.worker = Worker(
            config, source=self.config_path, clock=self.clock, owner="demo", store=store
        )
        self.store = store
        self.worker.start()  # call workers up (and the voice warm) before the first flag
        return self

    def stop(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            try:
                worker.stop(grace_s=5.0)
            except Exception:
                log.exception("stopping the scheduler failed")
            worker.close()  # channels, adapters and the store
            self.store = None
        if self.phone_proc is not None and self.phone_proc.poll() is None:
            self.phone_proc.send_signal(signal.SIGTERM)
            try:
                self.phone_proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.phone_proc.pid, signal.SIGKILL)
                self.phone_proc.wait(5)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Rig:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the ERP side ------------------------------------------------------------------------

    def flag(self, documents: list[JsonObject]) -> None:
        """Managers flag documents: rows with their own customer (phone, names, zone)."""
        create_sample_erp(self.erp_url, documents=documents)

    def erp_query(self, sql: str) -> list[JsonObject]:
        engine = sa.create_engine(self.erp_url)
        try:
            with engine.connect() as conn:
                return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]
        finally:
            engine.dispose()

    def erp_results(self) -> list[JsonObject]:
        """Every result row cuckoo wrote back, with the document and its flags."""
        return self.erp_query(
            "SELECT d.id AS document_id, d.number, c.last_name, c.phone, d.notify_status,"
            " d.notify_call, d.notify_sms, r.status, r.status_code, r.outcome, r.outcome_code,"
            " r.attempts, r.contacts,"
            " r.dtmf, r.callback_at, r.detail"
            " FROM documents d JOIN customers c ON c.id = d.customer_id"
            " LEFT JOIN notify_results r ON r.document_id = d.id"
            " WHERE d.notify_scenario IS NOT NULL ORDER BY d.id, r.id"
        )

    def document_ids(self) -> dict[str, int]:
        """Document number → id."""
        rows = self.erp_query("SELECT id, number FROM documents")
        return {r["number"]: int(r["id"]) for r in rows}

    # ---- the store side ----------------------------------------------------------------------

    @property
    def channels(self) -> dict[ChannelKind, Channel]:
        return self.worker.channels if self.worker is not None else {}

    def live_store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the rig is not running")
        return self.store

    def row(self, external_id: int | str) -> Any:
        return self.live_store().get(SOURCE, str(external_id))

    def attempts(self, external_id: int | str) -> list[Any]:
        r = self.row(external_id)
        return [] if r is None else list(self.live_store().attempts_of(r.id))

    def outbox_pending(self) -> int:
        return int(self.live_store().outbox_pending())

    # ---- the phones --------------------------------------------------------------------------

    def phone_events(self) -> list[JsonObject]:
        out = []
        for line in self.events_path.read_text("utf-8").splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line being written right now
        return out

    def wait_phone_event(self, event: str, timeout: float = 10.0) -> JsonObject:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.phone_events():
                if e.get("event") == event:
                    return e
            if self.phone_proc is not None and self.phone_proc.poll() is not None:
                err = (self.workdir / "phone-stderr.log").read_text("utf-8")[-2000:]
                raise RuntimeError(f"the simulated phone exited: {err}")
            time.sleep(0.05)
        raise RuntimeError(f"no {event!r} event from the simulated phone in {timeout:.0f} s")
