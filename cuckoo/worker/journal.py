"""The worker's journal of attempt results: nothing a customer said is lost because the store was
down when the call ended.

When an attempt's result is known (a CallReport turned AttemptResult, an SMS gateway's answer),
the scheduler writes it here — durably, fsync'ed — *before* it tries the store, and marks it done
once the store took it. Until then the scheduler replays it, at start and while it runs (with
back-off while the store is down). `Store.finish_attempt` accepts a replay of a result it
already holds as a no-op, and a result that comes after the lease was lost is judged by
`cuckoo.policy.late`; so replaying too often is harmless, and replaying too little is the only
way to lose a result.

Why a JSON-lines file, not a small SQLite database: it is the one write the worker must still
manage when the store's SQLite is locked or broken, so it shares no engine, no lock and no
schema with it; an append plus fsync is the whole write path; a torn last line (power cut
mid-write) is skipped, not a corrupt file; and an operator can read it with `cat`.

Layout: `<var_dir>/journal/worker-<n>.jsonl`. Each worker process holds an exclusive lock
(flock) on its own file, the lowest n free, so several `cuckoo run` sharing a var_dir never
write the same file. At start a worker adopts the files nobody holds (left by a process that
died), copying their pending results into its own. Lines:

    {"v": 1, "op": "result", "key": "<notification id>/<attempt no>", "owner": …,
     "recorded_at": …, "notification": {…}, "result": {…}}
    {"v": 1, "op": "done", "key": "<notification id>/<attempt no>"}

A "done" line needs no fsync: lost, it only causes one more (idempotent) replay. When nothing is
pending any more the file is emptied, so it stays small.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cuckoo.config.private import private_dir
from cuckoo.domain import AttemptResult, ChannelKind, JsonObject, Notification, Outcome

__all__ = [
    "Entry",
    "Journal",
    "decode_line",
    "encode_done",
    "encode_result",
    "entry_key",
    "pending_of",
]

log = logging.getLogger(__name__)

VERSION = 1
_RESULT_TIMES = ("started_at", "ended_at", "answered_at", "callback_at")


@dataclass(frozen=True)
class Entry:
    """One attempt's result, waiting for the store."""

    owner: str  # the lease it was delivered under
    notification: Notification
    result: AttemptResult
    recorded_at: datetime

    @property
    def key(self) -> str:
        return entry_key(self.notification)


def entry_key(n: Notification) -> str:
    return f"{n.id}/{n.attempt_no}"


# ---- pure: lines in, lines out ------------------------------------------------------------


def _time(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def _parse_time(v: Any) -> datetime | None:
    return datetime.fromisoformat(v) if v is not None else None


def encode_result(e: Entry) -> str:
    """The journal line of a result (no newline)."""
    n = dataclasses.asdict(e.notification)
    n["channel"] = e.notification.channel.value
    r = dataclasses.asdict(e.result)
    r["outcome"] = e.result.outcome.value
    for name in _RESULT_TIMES:
        r[name] = _time(getattr(e.result, name))
    line = {
        "v": VERSION,
        "op": "result",
        "key": e.key,
        "owner": e.owner,
        "recorded_at": e.recorded_at.isoformat(),
        "notification": n,
        "result": r,
    }
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def encode_done(key: str) -> str:
    return json.dumps({"v": VERSION, "op": "done", "key": key}, separators=(",", ":"))


def decode_line(line: str) -> tuple[str, Entry | None]:
    """(key, entry) of one journal line; entry is None for a "done" line. Raises ValueError
    naming what is wrong."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg} at column {e.colno})") from e
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("v") != VERSION:
        raise ValueError(f"version {data.get('v')!r}, this cuckoo reads {VERSION}")
    op, key = data.get("op"), data.get("key")
    if not isinstance(key, str):
        raise ValueError("no key")
    if op == "done":
        return key, None
    if op != "result":
        raise ValueError(f"unknown op {op!r}")
    try:
        n: JsonObject = dict(data["notification"])
        n["channel"] = ChannelKind(n["channel"])
        r: JsonObject = dict(data["result"])
        r["outcome"] = Outcome(r["outcome"])
        for name in _RESULT_TIMES:
            r[name] = _parse_time(r.get(name))
        entry = Entry(
            owner=str(data["owner"]),
            notification=Notification(**n),
            result=AttemptResult(**r),
            recorded_at=datetime.fromisoformat(data["recorded_at"]),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"bad result record: {type(e).__name__}: {e}") from e
    if entry.key != key:
        raise ValueError(f"key {key!r} does not match its notification {entry.key!r}")
    return key, entry


def pending_of(lines: Iterable[str], where: str = "journal") -> tuple[list[Entry], list[str]]:
    """What to replay: the results without a later "done", in the order they were recorded
    (the last record of a key wins), and the problems with unreadable lines (`where:line:
    why`). A torn last line is such a problem, not a reason to drop the rest."""
    pending: dict[str, Entry] = {}
    problems: list[str] = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            key, entry = decode_line(line)
        except ValueError as e:
            problems.append(f"{where}:{no}: {e}")
            continue
        if entry is None:
            pending.pop(key, None)
        else:
            pending.pop(key, None)  # a re-recorded result moves to the end
            pending[key] = entry
    return list(pending.values()), problems


# ---- I/O ------------------------------------------------------------------------------------


class Journal:
    """Results waiting for the store, kept in memory and, with a folder, in this process's
    journal file. `Journal(None)` keeps them in memory only (dry runs, tests of other parts)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._file: IO[str] | None = None
        self._pending: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def open(self) -> list[Entry]:
        """Take this process's journal file, adopt orphaned ones; returns what is pending."""
        if self.folder is None or self._file is not None:
            return self.pending()
        private_dir(self.folder)  # results name customers' phones
        n = 0
        while True:
            path = self.folder / f"worker-{n}.jsonl"
            f = _open_locked(path)
            if f is not None:
                break
            n += 1
        self._file, self.path = f, path
        entries = self._read(f, path)
        orphans: list[tuple[Path, IO[str]]] = []
        try:
            for other in sorted(self.folder.glob("worker-*.jsonl")):
                g = None if other == path else _open_locked(other)
                if g is None:
                    continue  # ours, or a live worker's
                orphans.append((other, g))
                adopted = self._read(g, other)
                if adopted:
                    log.warning(
                        "journal %s: adopting %d result(s) a stopped worker left",
                        other,
                        len(adopted),
                    )
                entries.extend(adopted)
            with self._lock:
                for e in entries:
                    self._pending[e.key] = e
                self._rewrite()  # only what is pending, adopted results included, fsync'ed
            for other, _ in orphans:
                other.unlink()  # only now that our own file holds its results
        finally:
            for _, g in orphans:
                g.close()
        if entries:
            log.warning(
                "journal %s: %d result(s) not yet in the store; storing them now",
                path,
                len(entries),
            )
        return self.pending()

    def _read(self, f: IO[str], path: Path) -> list[Entry]:
        f.seek(0)
        entries, problems = pending_of(f.read().splitlines(), str(path))
        for p in problems:
            log.error("%s (line skipped)", p)
        return entries

    def record(self, entry: Entry) -> None:
        """Keep a result until `done`: durable (fsync'ed) before this returns, if a file is
        open. A failed write is logged and the result kept in memory: the store may still
        take it."""
        with self._lock:
            self._pending[entry.key] = entry
            if self._file is None:
                return
            try:
                self._file.write(encode_result(entry) + "\n")
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as e:
                log.error(
                    "journal %s: could not write notification %s attempt %s (%s); "
                    "it is kept in memory only",
                    self.path,
                    entry.notification.id,
                    entry.notification.attempt_no,
                    e,
                )

    def done(self, key: str) -> None:
        """The store took it."""
        with self._lock:
            if self._pending.pop(key, None) is None:
                return
            if self._file is None:
                return
            try:
                if self._pending:
                    self._file.write(encode_done(key) + "\n")
                    self._file.flush()
                else:
                    self._rewrite()  # nothing left: start afresh
            except OSError as e:  # the result is replayed once more: harmless
                log.warning("journal %s: could not mark %s done (%s)", self.path, key, e)

    def pending(self) -> list[Entry]:
        with self._lock:
            return list(self._pending.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        with self._lock:
            f, self._file = self._file, None
        if f is not None:
            f.close()  # the lock goes with it; whatever is pending stays in the file

    def _rewrite(self) -> None:
        """The file holds exactly what is pending (caller holds the lock)."""
        f = self._file
        if f is None:
            return
        f.seek(0)
        f.truncate()
        for e in self._pending.values():
            f.write(encode_result(e) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _open_locked(path: Path) -> IO[str] | None:
    """The file opened for reading and appending with an exclusive lock, or None when another
    process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    _fsync_dir(path.parent)
    return os.fdopen(fd, "r+", encoding="utf-8")


def _fsync_dir(folder: Path) -> None:
    """Make a file's creation durable (its directory entry)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
