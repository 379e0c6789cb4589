"""`type = "csv"`: a drop folder. An ERP (or a person) saves `*.csv` files into `folder`.

Files: UTF-8 (with or without BOM) or cp1251 (what 1C and Excel often write), `;`, `,`, tab or
`|` as the delimiter (taken from the header line), first line = header. Header names map to
notification fields (`fields`, or the usual names: external_id/id, phone/телефон,
scenario/сценарий, channel/канал, timezone/часовой пояс, not_before/не ранее, deadline/срок);
every other column becomes a template variable. Without an id column a row's id is a hash of
its values, so the same row dropped twice is one notification.

What happens to a file:
- only files unchanged for `min_age_s` are read (one still being copied is left alone), and
  `*.tmp`, `*.part`, hidden and `~$` files never match;
- good rows become notifications, each bad row is logged and written as `file:line: reason`
  to `<file>.errors.txt` next to where the file goes;
- the file moves to `processed/` (or `failed/` when no row was good), so it is read once.

Nothing lost: rows of files moved to processed/ in the last `redeliver_hours` are returned again
on every poll (the store dedups), so a crash between reading and storing only delays them.

Results are appended to `results/results.csv` (one line per external_id + status; repeating a
report writes nothing): status, outcome and detail in Russian («не дозвонились», «не дозвонились:
исчерпано 3 попытки») unless `results = "en"`, status_code and outcome_code always the English
codes. An older results file keeps its own columns. If that file cannot be written (locked by
Excel...) → ErpUnavailable.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import field_validator

from adapters.base import CommonOptions, RejectedRows
from adapters.mapping import RowDefaults, RowError, is_blank, map_row, report_params
from cuckoo.domain import IncomingNotification, ResultReport
from cuckoo.errors import ConfigError, ErpUnavailable

log = logging.getLogger("cuckoo.adapters.csv")

# header (lower case) → field, used when `fields` does not name the column
HEADER_ALIASES: dict[str, str] = {
    "external_id": "external_id",
    "id": "external_id",
    "ид": "external_id",
    "идентификатор": "external_id",
    "phone": "phone",
    "телефон": "phone",
    "scenario": "scenario",
    "сценарий": "scenario",
    "channel": "channel",
    "канал": "channel",
    "tenant": "tenant",
    "timezone": "timezone",
    "часовой пояс": "timezone",
    "часовой_пояс": "timezone",
    "not_before": "not_before",
    "не ранее": "not_before",
    "deadline": "deadline",
    "срок": "deadline",
    "variables": "variables",
    "уведомить звонком": "call_flag",
    "уведомить смс": "sms_flag",
}
DELIMITERS = (";", ",", "\t", "|")
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")
RESULT_COLUMNS = (
    "external_id",
    "status",
    "status_code",
    "outcome",
    "outcome_code",
    "attempts",
    "contacts",
    "last_attempt_at",
    "dtmf",
    "transcript",
    "callback_at",
    "detail",
    "reported_at",
)


class CsvOptions(CommonOptions):
    folder: Path = Path("var/inbox")  # relative to cuckoo.toml's folder
    pattern: str = "*.csv"
    encoding: str = "auto"  # auto = UTF-8 if it decodes, else cp1251
    delimiter: str = "auto"  # auto = the most frequent of ; , tab | in the header line
    min_age_s: float = 10.0  # a file must be unchanged this long before it is read
    redeliver_hours: float = 24.0
    processed_dir: str = "processed"  # these three are inside `folder`
    failed_dir: str = "failed"
    results_dir: str = "results"
    results_file: str = "results.csv"
    results_encoding: str = "utf-8-sig"  # with BOM: Excel opens it right
    results_delimiter: str = ";"

    @field_validator("encoding", "results_encoding")
    @classmethod
    def _codec(cls, v: str) -> str:
        if v != "auto":
            try:
                "".encode(v)
            except LookupError as e:
                raise ValueError(f"unknown encoding {v!r}") from e
        return v

    @field_validator("delimiter")
    @classmethod
    def _delim(cls, v: str) -> str:
        if v == "tab":
            return "\t"
        if v != "auto" and len(v) != 1:
            raise ValueError("one character, 'tab' or 'auto'")
        return v


# ---- pure parsing -------------------------------------------------------------------------
@dataclass
class ParsedFile:
    good: list[IncomingNotification] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "file:line: reason"
    rejected: list[RowError] = field(default_factory=list)  # bad rows that have an id
    fatal: str | None = None  # the whole file is unusable
    rows: int = 0  # data rows seen

    @property
    def all_bad(self) -> bool:
        return self.fatal is not None or (self.rows > 0 and not self.good)


def decode(data: bytes, encoding: str) -> str:
    """Bytes → text. auto: UTF-8 (BOM or not) if it decodes, else cp1251."""
    if encoding != "auto":
        return data.decode(encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ";"


def header_to_fields(header: list[str], fields: dict[str, str]) -> tuple[list[str], str | None]:
    """Rename header columns to field names (explicit `fields` first, then aliases).
    Returns the new header and an error if two columns claim one field."""
    by_column = {col.strip().lower(): f for f, col in fields.items()}
    out: list[str] = []
    taken: dict[str, str] = {}
    for col in header:
        name = col.strip()
        low = name.lower()
        target: str | None = None
        if low in by_column:
            target = by_column[low]
        elif low in HEADER_ALIASES and HEADER_ALIASES[low] not in fields:
            target = HEADER_ALIASES[low]
        if target is None:
            out.append(name)
            continue
        if target in taken:
            return out, f"columns {taken[target]!r} and {name!r} both map to {target}"
        taken[target] = name
        out.append(target)
    return out, None


def row_id(values: list[str]) -> str:
    digest = hashlib.sha1("\x1f".join(v.strip() for v in values).encode("utf-8")).hexdigest()
    return f"row-{digest[:16]}"


def parse_csv(
    text: str, label: str, source: str, defaults: RowDefaults, delimiter: str
) -> ParsedFile:
    """Parse one file's text. `label` names it in errors ("orders.csv")."""
    result = ParsedFile()
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        result.fatal = f"{label}:1: empty file (no header line)"
        return result
    delim = sniff_delimiter(first) if delimiter == "auto" else delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header: list[str] | None = None
    header_line = 1
    line = 1
    fields = dict(defaults.fields)
    row_defaults = RowDefaults(
        scenario=defaults.scenario,
        channel=defaults.channel,
        tenant=defaults.tenant,
        erp_timezone=defaults.erp_timezone,
        fields={},  # columns are renamed to field names below
        variables=defaults.variables,
        ignore=defaults.ignore,
    )
    first_seen: dict[str, tuple[int, str]] = {}  # id → (line, phone) of its first row
    try:
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if header is None:
                header, problem = header_to_fields(values, fields)
                header_line = start
                if problem:
                    result.fatal = f"{label}:{start}: {problem}"
                    return result
                if "phone" not in header:
                    result.fatal = (
                        f"{label}:{start}: no phone column (header: {', '.join(values)}); "
                        "name it phone/Телефон or set fields.phone"
                    )
                    return result
                if "scenario" not in header and not defaults.scenario:
                    result.fatal = (
                        f"{label}:{start}: no scenario column and no default_scenario set"
                    )
                    return result
                continue
            result.rows += 1
            where = f"{label}:{start}"
            if len(values) != len(header):
                result.errors.append(f"{where}: expected {len(header)} columns, got {len(values)}")
                continue
            row: dict[str, Any] = dict(zip(header, values, strict=True))
            own_id = "external_id" in row and not is_blank(row["external_id"])
            if not own_id:
                row["external_id"] = row_id(values)
            try:
                n = map_row(source, row, row_defaults)
                if not n.phone:
                    raise RowError("phone is empty", n.external_id)
                if not n.scenario:
                    raise RowError("scenario is empty and no default_scenario", n.external_id)
            except RowError as e:
                result.errors.append(f"{where}: {e.reason}")
                if own_id:  # a hashed id means nothing to the ERP: errors.txt is enough
                    result.rejected.append(e)
                continue
            first = first_seen.get(n.external_id)
            if first is not None and first[1] != n.phone:
                # The same id twice with another number: which one the ERP meant is unknown,
                # and the store keeps one notification per id. Kept: the first; said: both.
                result.errors.append(
                    f"{where}: id {n.external_id!r} again (first at {label}:{first[0]}) with "
                    f"another phone ({n.phone!r}, first {first[1]!r}); this row is ignored: "
                    "give it its own id"
                )
                continue
            first_seen.setdefault(n.external_id, (start, n.phone))
            result.good.append(n)
    except csv.Error as e:
        result.errors.append(f"{label}:{line}: {e}")
    if header is None:
        result.fatal = f"{label}:{header_line}: no header line"
    return result


# ---- the adapter --------------------------------------------------------------------------
class CsvFolderAdapter:
    Options = CsvOptions

    def __init__(self, name: str, options: CsvOptions, base_dir: Path) -> None:
        self.name = name
        self.options = options
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        folder = options.folder if options.folder.is_absolute() else base_dir / options.folder
        self.folder = folder
        self.processed = folder / options.processed_dir
        self.failed = folder / options.failed_dir
        self.results_path = folder / options.results_dir / options.results_file
        self._defaults = options.row_defaults()
        self._zone = ZoneInfo(options.erp_timezone)
        self._wording = options.wording()
        self._cache: dict[Path, tuple[tuple[int, int], ParsedFile]] = {}
        # (external_id, status code) already in the results file, and its columns
        self._written: set[tuple[str, str]] | None = None
        self._columns: tuple[str, ...] = RESULT_COLUMNS
        self._rejected = RejectedRows(name, self.report, options.report_invalid)
        # poll and outbox jobs may run in different threads; fetch calls report (rejections)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"CsvFolderAdapter({self.name!r}, {self.folder})"

    # -- fetch
    def fetch_pending(self) -> list[IncomingNotification]:
        with self._lock:
            self._ensure_dirs()
            now = time.time()
            for path in self._ready_files(now):
                self._ingest_file(path)
            return self._recent_rows(now)

    def _ensure_dirs(self) -> None:
        if not self.folder.is_dir():
            raise ConfigError(f"[adapters.{self.name}.folder] {self.folder} is not a folder")
        try:
            for d in (self.processed, self.failed, self.results_path.parent):
                d.mkdir(exist_ok=True)
        except OSError as e:
            raise ErpUnavailable(f"adapters.{self.name}: cannot create {e.filename}: {e}") from e

    def _ready_files(self, now: float) -> list[Path]:
        ready: list[tuple[float, str, Path]] = []
        for path in self.folder.glob(self.options.pattern):
            name = path.name
            if name.startswith((".", "~$")) or name.lower().endswith(PARTIAL_SUFFIXES):
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if not path.is_file() or now - st.st_mtime < self.options.min_age_s:
                continue  # still being written (or just renamed into place): next poll
            ready.append((st.st_mtime, name, path))
        return [p for _, _, p in sorted(ready)]

    def _parse(self, path: Path, label: str) -> ParsedFile:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ErpUnavailable(f"adapters.{self.name}: cannot read {path}: {e}") from e
        try:
            text = decode(data, self.options.encoding)
        except UnicodeDecodeError as e:
            return ParsedFile(
                fatal=f"{label}:1: cannot decode as {self.options.encoding}: {e.reason} "
                f"at byte {e.start}"
            )
        return parse_csv(text, label, self.name, self._defaults, self.options.delimiter)

    def _ingest_file(self, path: Path) -> None:
        parsed = self._parse(path, path.name)
        target_dir = self.failed if parsed.all_bad else self.processed
        dest = _free_name(target_dir, path.name)
        problems = ([parsed.fatal] if parsed.fatal else []) + parsed.errors
        try:
            os.replace(path, dest)
            os.utime(dest)  # mtime = when it was taken: drives redelivery
            if problems:
                errors_path = dest.with_name(dest.name + ".errors.txt")
                errors_path.write_text("\n".join(problems) + "\n", encoding="utf-8")
        except OSError as e:
            raise ErpUnavailable(f"adapters.{self.name}: cannot move {path}: {e}") from e
        for p in problems:
            log.warning("%s: %s", self.name, p)
        log.info(
            "%s: %s: %d good row(s), %d bad → %s",
            self.name,
            path.name,
            len(parsed.good),
            len(problems),
            dest,
        )
        self._rejected.handle(parsed.rejected, lambda err: path.name, quiet=True)

    def _recent_rows(self, now: float) -> list[IncomingNotification]:
        horizon = now - self.options.redeliver_hours * 3600
        out: list[IncomingNotification] = []
        seen: set[Path] = set()
        recent: list[tuple[float, str, Path, os.stat_result]] = []
        for path in self.processed.glob(self.options.pattern):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if st.st_mtime >= horizon:
                recent.append((st.st_mtime, path.name, path, st))
        for _, _, path, st in sorted(recent):  # in the order the files were taken
            seen.add(path)
            key = (st.st_mtime_ns, st.st_size)
            cached = self._cache.get(path)
            if cached is None or cached[0] != key:
                cached = (key, self._parse(path, path.name))
                self._cache[path] = cached
            out.extend(cached[1].good)
        for stale in set(self._cache) - seen:
            del self._cache[stale]
        return out

    # -- report
    def report(self, result: ResultReport) -> None:
        with self._lock:
            self._append_result(result)

    def _append_result(self, result: ResultReport) -> None:
        columns, written = self._load_written()
        key = (result.external_id, result.status.value)
        if key in written:
            return
        params = report_params(result, self.clock(), self._wording)
        row = [_text(params.get(c), self._zone) for c in columns]
        path = self.results_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            new = not path.exists() or path.stat().st_size == 0
            with path.open("a", encoding=self.options.results_encoding, newline="") as f:
                w = csv.writer(f, delimiter=self.options.results_delimiter)
                if new:
                    w.writerow(columns)
                w.writerow(row)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise ErpUnavailable(f"adapters.{self.name}: cannot write {path}: {e}") from e
        written.add(key)

    def _load_written(self) -> tuple[tuple[str, ...], set[tuple[str, str]]]:
        """The results file's columns (an older file keeps its own: its lines stay aligned)
        and the (external_id, status code) pairs already in it."""
        if self._written is None:
            written: set[tuple[str, str]] = set()
            try:
                text = self.results_path.read_text(encoding=self.options.results_encoding)
            except FileNotFoundError:
                text = ""
            except OSError as e:
                raise ErpUnavailable(
                    f"adapters.{self.name}: cannot read {self.results_path}: {e}"
                ) from e
            reader = csv.DictReader(io.StringIO(text), delimiter=self.options.results_delimiter)
            for r in reader:
                code = r.get("status_code") or r.get("status")  # before status_code: the code
                if r.get("external_id") is not None and code is not None:
                    written.add((r["external_id"], code))
            self._columns = tuple(reader.fieldnames or RESULT_COLUMNS)
            self._written = written
        return self._columns, self._written

    def check(self) -> None:
        """Read-only: the folder exists and cuckoo may read and move files in it; the
        processed/failed/results folders are usable or can be made (nothing is created)."""
        where = f"[adapters.{self.name}.folder]"
        if not self.folder.exists():
            raise ConfigError(f"{where} the folder {self.folder} does not exist")
        if not self.folder.is_dir():
            raise ConfigError(f"{where} {self.folder} is not a folder")
        if not os.access(self.folder, os.R_OK | os.X_OK):
            raise ConfigError(f"{where} cannot read the folder {self.folder} (permissions)")
        if not os.access(self.folder, os.W_OK):
            raise ConfigError(
                f"{where} cannot move files out of {self.folder}: the folder is not writable"
            )
        for d in (self.processed, self.failed, self.results_path.parent):
            if not d.exists():
                continue  # made on the first poll, inside the writable folder
            if not d.is_dir():
                raise ConfigError(f"{where} {d} is not a folder")
            if not os.access(d, os.R_OK | os.W_OK | os.X_OK):
                raise ConfigError(f"{where} cannot read and write {d} (permissions)")
        try:
            next(iter(self.folder.glob(self.options.pattern)), None)
        except OSError as e:
            raise ConfigError(f"{where} cannot list {self.folder}: {e.strerror}") from e


def _free_name(folder: Path, name: str) -> Path:
    dest = folder / name
    if not dest.exists():
        return dest
    stem, suffix = os.path.splitext(name)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    n = 1
    while True:
        dest = folder / f"{stem}.{stamp}-{n}{suffix}"
        if not dest.exists():
            return dest
        n += 1


def _text(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
