"""`cuckoo demo`: the whole robot on this machine, with no configuration.

A sample shop ERP (SQLite) where managers flag documents "notify by call"; the real worker
(store, scheduler, call workers speaking Russian over SIP/RTP, the dialog) on a fast clock; and
simulated customer phones on loopback, each behaving per its script (see cuckoo/demo/cast.py).
It shows live progress, checks every customer's result against the outcome its script implies
and the ERP's written-back results, and exits 0 only if all of them match.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cuckoo.config import load
from cuckoo.demo.cast import CAST, Customer, documents, phones_script
from cuckoo.demo.rig import Rig, RigOptions
from cuckoo.domain import JsonObject, Status
from cuckoo.errors import InputError
from cuckoo.intake.phones import normalize_phone
from cuckoo.result_texts import status_name
from cuckoo.speech.models import find_asr_model
from cuckoo.speech.tts import choose_voice, load_profiles
from cuckoo.worker.store import open_store

log = logging.getLogger("cuckoo.demo")

__all__ = ["CustomerState", "check_customer", "run_demo"]


@dataclass
class CustomerState:
    """What the store says about one customer's notification right now."""

    customer: Customer
    external_id: str
    status: str = "—"  # "—": not read from the ERP yet
    attempts: int = 0
    contacts: int = 0
    last_outcome: str | None = None
    dtmf: str = ""
    callback_at: datetime | None = None
    detail: str = ""
    outcomes: list[str] = field(default_factory=list)  # of every attempt, in order

    @property
    def settled(self) -> bool:
        if self.status == "—":
            return False
        if Status(self.status).is_final:
            return True
        return self.customer.expect.settles_pending and self.last_outcome == (
            self.customer.expect.outcome.value if self.customer.expect.outcome else None
        )


def read_state(rig: Rig, c: Customer, external_id: str) -> CustomerState:
    st = CustomerState(c, external_id)
    row = rig.row(external_id)
    if row is None:
        return st
    st.status, st.attempts, st.contacts = row.status, row.attempts, row.contacts
    st.last_outcome, st.detail = row.last_outcome, row.detail
    atts = rig.attempts(external_id)
    st.outcomes = [a.outcome or "…" for a in atts]
    if atts:
        st.dtmf = atts[-1].dtmf or ""
        st.callback_at = atts[-1].callback_at
    return st


def check_customer(
    st: CustomerState,
    erp_rows: list[JsonObject],
    phone_events: list[JsonObject],
    e164: str | None,
) -> list[str]:
    """Everything that differs from what this customer's script implies ([] = all good)."""
    e = st.customer.expect
    bad: list[str] = []

    def differ(what: str, got: Any, want: Any) -> None:
        if got != want:
            bad.append(f"{what}: expected {want!r}, got {got!r}")

    differ("status", st.status, e.status.value)
    differ("last outcome", st.last_outcome, e.outcome.value if e.outcome else None)
    differ("attempts", st.attempts, e.attempts)
    differ("contacts", st.contacts, e.contacts)
    if e.dtmf is not None:
        differ("keys pressed", st.dtmf, e.dtmf)
    if e.callback and st.callback_at is None:
        bad.append("no callback time was agreed")
    # The ERP: its document shows the status in words, and a result row holds the codes.
    doc = [r for r in erp_rows if str(r["document_id"]) == st.external_id]
    if not doc:
        bad.append("ERP: the document is gone")
    else:
        differ("ERP notify_status", doc[0]["notify_status"], status_name(e.status))
        results = [r for r in doc if r["status_code"] is not None]
        want_outcome = e.outcome.value if e.outcome else None
        if not any(
            r["status_code"] == e.status.value and r["outcome_code"] == want_outcome
            for r in results
        ):
            got = [(r["status_code"], r["outcome_code"]) for r in results]
            bad.append(
                f"ERP notify_results: no row ({e.status.value}, {want_outcome}); rows: {got}"
            )
        if e.callback and not any(r["callback_at"] for r in results):
            bad.append("ERP notify_results: callback_at is empty")
        flags_on = bool(doc[0]["notify_call"]) or bool(doc[0]["notify_sms"])
        if e.status.is_final and flags_on:
            bad.append("ERP: the notify flags were not cleared by the final result")
    # The phone: the calls it got, and whether the robot's voice reached it over RTP.
    mine = [ev for ev in phone_events if e164 is not None and ev.get("user") == e164]
    calls = sum(1 for ev in mine if ev.get("event") == "incoming")
    differ("calls the phone received", calls, e.calls)
    if e.heard_robot and not any(
        ev.get("event") == "ended" and ev.get("answered") and ev.get("first_audio_s") is not None
        for ev in mine
    ):
        bad.append("the phone never heard the robot's voice (no RTP audio arrived)")
    return bad


# ---- progress ---------------------------------------------------------------------------------


def _fmt_state(st: CustomerState) -> str:
    parts = [st.status]
    if st.attempts or st.outcomes:
        parts.append(f"attempts {st.attempts}")
    if st.last_outcome:
        parts.append(f"last {st.last_outcome}")
    if st.dtmf:
        parts.append(f"keys {st.dtmf}")
    return ", ".join(parts)


class PlainProgress:
    """Without a terminal (CI, a pipe): one line per change."""

    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stdout
        self.seen: dict[str, str] = {}
        self.t0 = time.monotonic()

    def update(self, states: list[CustomerState]) -> None:
        for st in states:
            line = _fmt_state(st)
            if self.seen.get(st.external_id) != line:
                self.seen[st.external_id] = line
                print(
                    f"[{time.monotonic() - self.t0:6.1f} s] {st.customer.name:<20} "
                    f"{st.customer.phone:<18} {line}",
                    file=self.out,
                    flush=True,
                )

    def close(self) -> None:
        pass


class LiveProgress:
    """In a terminal: a rich table redrawn in place."""

    def __init__(self) -> None:
        from rich.live import Live

        self.t0 = time.monotonic()
        self.live = Live("", refresh_per_second=4, transient=False)
        self.live.update(self._table([]))
        self.live.start()
        # Log lines go through Live's stderr proxy, printed above the table instead of into it.
        self._handlers: list[tuple[logging.StreamHandler[Any], Any]] = []
        for h in logging.getLogger().handlers:
            std = (sys.__stderr__, sys.__stdout__)
            if isinstance(h, logging.StreamHandler) and h.stream in std:
                self._handlers.append((h, h.setStream(sys.stderr)))

    def _table(self, states: list[CustomerState]) -> Any:
        from rich.table import Table

        wide = self.live.console.width >= 140  # narrow terminals: the essential columns only
        t = Table(title=f"cuckoo demo — {time.monotonic() - self.t0:5.1f} s", expand=False)
        cols = ["doc", "customer", "phone", "plays"] if wide else ["doc", "customer"]
        for col in [*cols, "status", "att.", "outcomes" if wide else "last outcome", "keys"]:
            t.add_column(col, no_wrap=True)
        for st in states:
            c = st.customer
            style = {
                "confirmed": "green",
                "declined": "yellow",
                "exhausted": "red",
                "invalid": "magenta",
                "active": "cyan",
            }.get(st.status, "")
            status = f"[{style}]{st.status}[/]" if style else st.status
            first = [c.number, c.name, c.phone, c.plays] if wide else [c.number, c.last_name]
            last = " ".join(st.outcomes) if wide else (st.last_outcome or "")
            t.add_row(*first, status, str(st.attempts), last, st.dtmf)
        return t

    def update(self, states: list[CustomerState]) -> None:
        self.live.update(self._table(states))

    def close(self) -> None:
        self.live.stop()
        for h, stream in self._handlers:
            h.setStream(stream)


# ---- the run ----------------------------------------------------------------------------------


def _print_erp(rows: list[JsonObject], out: Any) -> None:
    print(
        "\nThe ERP's results (documents ⟕ notify_results, as cuckoo wrote them back; "
        "times in the ERP's zone, Europe/Moscow):",
        file=out,
    )
    head = (
        f"{'doc':<11} {'customer':<10} {'doc status':<16} {'result':<16} {'outcome':<19}"
        f" {'att':>3} {'cnt':>3} {'keys':<4} {'callback_at':<19} result text"
    )
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in rows:
        cb = str(r["callback_at"] or "")[:19]
        print(
            f"{r['number']:<11} {r['last_name']:<10} {r['notify_status'] or '-':<16} "
            f"{r['status'] or '-':<16} {r['outcome'] or '-':<19} "
            f"{'' if r['attempts'] is None else r['attempts']:>3} "
            f"{'' if r['contacts'] is None else r['contacts']:>3} {r['dtmf'] or '':<4} "
            f"{cb:<19} {(r['detail'] or '')[:80]}",
            file=out,
        )


def describe_speech(config: Any) -> str:
    """Which voice speaks and whether answers can be spoken, as the call workers will see it."""
    try:
        profile, _why = choose_voice(config, load_profiles(config.path(config.voices_dir)), None)
        voice = f"voice {profile.name}"
    except Exception as e:  # the workers log the details; the demo only describes
        voice = f"voice: {e}"
    try:
        model = find_asr_model(config)
        ears = (
            f"speech recognition {model.name}"
            if model
            else ("no Russian speech model: answers by keys (DTMF)")
        )
    except Exception as e:
        ears = f"speech recognition: {e}"
    return f"{voice}; {ears}"


DEMO_MARK = "# Written by `cuckoo demo`"


def is_demo_folder(path: Path) -> bool:
    """A folder an earlier demo run made (its cuckoo.toml carries the demo's mark)."""
    try:
        return (path / "cuckoo.toml").read_text("utf-8").startswith(DEMO_MARK)
    except OSError:
        return False


def run_demo(
    *,
    keep: bool = False,
    workdir: Path | None = None,
    speed: float = 60.0,
    timeout_s: float = 150.0,
    live: bool | None = None,
    out: Any = None,
    cast: list[Customer] | None = None,
    serve: str | None = None,
) -> int:
    """Run the demo; 0 if every customer reached the outcome its script implies, else 1.
    `serve` ("HOST:PORT"): then keep the web console up on the demo's store until Ctrl-C."""

    out = out or sys.stdout
    cast = list(CAST if cast is None else cast)
    made_tmp = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="cuckoo-demo-")) if workdir is None else workdir
    if workdir is not None and workdir.exists() and any(workdir.iterdir()):
        if not is_demo_folder(workdir):
            print(
                f"cuckoo demo: {workdir} is not empty and not a demo folder: not touching it",
                file=out or sys.stdout,
            )
            return 2
        shutil.rmtree(workdir)  # a fresh run every time
    wd.mkdir(parents=True, exist_ok=True)
    if live is None:
        live = out is sys.stdout and sys.stdout.isatty()
    t_start = time.monotonic()
    print(f"cuckoo demo: work folder {wd}", file=out, flush=True)
    rig = Rig(wd, phones_script(cast), RigOptions(speed=speed, record=serve is not None))
    states: list[CustomerState] = []
    erp_rows: list[JsonObject] = []
    events: list[JsonObject] = []
    timed_out = False
    try:
        print(
            "starting: simulated phones, call workers (voice warm-up), scheduler …",
            file=out,
            flush=True,
        )
        try:
            rig.start()
        except (RuntimeError, OSError) as e:
            print(f"cuckoo demo: cannot start: {e}", file=out)
            return 1
        print(describe_speech(rig.config), file=out, flush=True)
        print(
            f"ready in {time.monotonic() - t_start:.1f} s; clock runs {speed:g}× "
            f"(a 1-minute retry interval takes 1/{speed:g} min); managers flag "
            f"{len(cast)} documents now",
            file=out,
            flush=True,
        )
        rig.flag(documents(cast))
        ids = rig.document_ids()
        ext = {c.number: str(ids[c.number]) for c in cast}
        progress: PlainProgress | LiveProgress = LiveProgress() if live else PlainProgress(out)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                states = [read_state(rig, c, ext[c.number]) for c in cast]
                progress.update(states)
                if all(s.settled for s in states) and rig.outbox_pending() == 0:
                    break
                if time.monotonic() > deadline:
                    timed_out = True
                    break
                time.sleep(0.5)
        finally:
            progress.close()
    except KeyboardInterrupt:
        print("interrupted", file=out)
        rig.stop()
        return 130
    finally:
        if rig.worker is not None or rig.phone_proc is not None:
            try:
                if rig.store is not None and states:
                    states = [read_state(rig, s.customer, s.external_id) for s in states]
            finally:
                rig.stop()
    erp_rows = rig.erp_results()
    events = rig.phone_events()
    elapsed = time.monotonic() - t_start

    # ---- the report ----
    print(
        f"\nReport after {elapsed:.0f} s"
        + (f" (timed out after {timeout_s:.0f} s)" if timed_out else "")
        + ":",
        file=out,
    )
    failures = 0
    for st in states:
        c = st.customer
        try:
            e164: str | None = normalize_phone(c.phone)
        except InputError:
            e164 = None
        bad = check_customer(st, erp_rows, events, e164)
        exp = c.expect
        want = f"{exp.status.value}/{exp.outcome.value if exp.outcome else '-'}"
        got = f"{st.status}/{st.last_outcome or '-'}"
        mark = "OK  " if not bad else "FAIL"
        failures += bool(bad)
        print(f"  {mark} {c.number:<11} {c.name:<18} {c.plays}", file=out)
        print(
            f"       expected {want}, got {got} (attempts {st.attempts}, contacts {st.contacts}"
            + (f", callback at {st.callback_at:%Y-%m-%d %H:%M} UTC" if st.callback_at else "")
            + ")",
            file=out,
        )
        for b in bad:
            print(f"         ✗ {b}", file=out)
        if bad and st.detail:
            print(f"         detail: {st.detail}", file=out)
    _print_erp(erp_rows, out)
    if failures:
        print(
            f"\n{failures} of {len(states)} customers did not reach the expected outcome.", file=out
        )
    else:
        print(f"\nAll {len(states)} customers reached the outcome their script implies.", file=out)
    if serve is not None:
        serve_console(wd, serve, out)
    if keep or failures:
        print(
            f"Files kept in {wd} (cuckoo.toml, erp.sqlite, cuckoo.sqlite, phone-events.jsonl)",
            file=out,
        )
    elif made_tmp:
        shutil.rmtree(wd, ignore_errors=True)
    return 1 if failures else 0


def serve_console(wd: Path, listen: str, out: Any) -> None:
    """The web console on the demo's store, with a one-time admin password, until Ctrl-C."""
    import secrets

    from cuckoo.web import need_web  # FastAPI, uvicorn, argon2: the [web] extra

    need_web()
    from cuckoo.web.context import WebContext  # FastAPI, uvicorn, argon2: the [web] extra
    from cuckoo.web.passwords import hash_password  # FastAPI, uvicorn, argon2: the [web] extra
    from cuckoo.web.server import BackgroundServer  # FastAPI, uvicorn, argon2: the [web] extra

    config = load(wd / "cuckoo.toml")
    store = open_store(config)
    password = secrets.token_urlsafe(12)
    store.console.add_user("demo", "admin", None, hash_password(password), datetime.now(UTC))
    server = BackgroundServer(WebContext(store, config), listen).start()
    print(
        f"\nWeb console: http://{listen}/  user: demo  password: {password}\n"
        "(the password is new on every run; Ctrl-C stops the console)",
        file=out,
        flush=True,
    )
    try:
        while server.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("console stopped", file=out)
    finally:
        server.stop()
        store.close()
