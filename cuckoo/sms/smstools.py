"""Debian's smstools (smsd) as an SMS gateway: message files in its spool folders.

    send        writes `cuckoo-<gateway>-<random>` to tmp_dir, then renames it into `outgoing`
                (one rename: smsd never reads half a file); the file name is the message id
    smsd        sends it through its modem and moves it, name kept, to `sent` (with `Sent:` and,
                a report being asked for, `Message_id: <TP-MR>`) or to `failed` (`Failed:`,
                `Error:`)
    reports     smsd writes each status report as a file in its `report` folder (or `incoming`):
                "From: <recipient>" … then "SMS STATUS REPORT", "Message_id: 117",
                "Status: 0,Ok,short message received by the SME"
A thread reads those folders every poll_interval_s: a file in `failed` → undeliverable; a report
whose (recipient, Message_id) is a message of ours sent before the report came → delivered /
undeliverable / expired by its status number (TS 23.040 TP-ST, as from a modem); interim states
(32-63: the SMSC still tries) are skipped. cuckoo changes and removes nothing in smsd's folders
but its own temporary file. After a restart it picks up again its files in `sent` and `failed`
from the last follow_hours.

A long message: smsd splits it (autosplit); with its default `messageids = 2` the file keeps the
last part's id, whose report decides; with `messageids = 3` every part's report must say
delivered.

Text: plain ASCII the GSM alphabet has goes as "Alphabet: ISO"; anything else (Cyrillic, …)
as "Alphabet: UCS2", the text in UTF-16BE, so smsd converts nothing it might get wrong.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cuckoo.config.sms import SmstoolsGatewaySettings
from cuckoo.errors import CuckooError
from cuckoo.sms.gateway import ReceiptHandler, ReceiptStatus, SubmitResult, SubmitState
from cuckoo.sms.pdu import report_status
from cuckoo.sms.segments import is_gsm7

log = logging.getLogger(__name__)

REPORT_MARK = b"SMS STATUS REPORT"
MAX_FILE = 64 * 1024  # a spool file bigger than this is not a message or a report


# --- pure: the file format ----------------------------------------------------------------------


def message_file(to: str, text: str, *, report: bool) -> bytes:
    """An outgoing smsd message file: headers, a blank line, the text."""
    digits = to.strip().lstrip("+")
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{to!r} is not a phone number")
    plain = text.isascii() and is_gsm7(text)
    headers = [f"To: {digits}", f"Alphabet: {'ISO' if plain else 'UCS2'}"]
    headers.append(f"Report: {'yes' if report else 'no'}")
    body = text.encode("ascii") if plain else text.encode("utf-16-be")
    return ("\n".join(headers) + "\n\n").encode("ascii") + body


def parse_file(data: bytes) -> tuple[dict[str, str], bytes]:
    """An smsd file → (headers, body). A header seen twice keeps its last value (smsd appends
    what it learnt below what was there)."""
    head, sep, body = data.replace(b"\r\n", b"\n").partition(b"\n\n")
    if not sep:
        head, body = data, b""
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers[name.strip()] = value.strip()
    return headers, body


def message_ids(value: str) -> set[int]:
    """`Message_id: 117`, or every part's with messageids = 3: `Message_id: 117 118 .`"""
    return {int(v) for v in value.replace(",", " ").split() if v.isdigit()}


@dataclass(frozen=True)
class SpoolReport:
    recipient: str  # digits
    message_id: int
    status: int  # TP-ST
    words: str  # smsd's: "Ok,short message received by the SME"


def parse_report(data: bytes) -> SpoolReport | None:
    """A status report file from smsd; None for anything else (an incoming SMS, …)."""
    headers, body = parse_file(data)
    if not body.lstrip().startswith(REPORT_MARK):
        return None
    fields, _ = parse_file(body.lstrip()[len(REPORT_MARK) :].lstrip(b"\n") + b"\n\n")
    ids = message_ids(fields.get("Message_id", ""))
    code, _, words = fields.get("Status", "").partition(",")
    recipient = headers.get("From", "").lstrip("+ ")
    if len(ids) != 1 or not code.strip().isdigit() or not recipient:
        return None
    return SpoolReport(recipient, ids.pop(), int(code), words.strip())


# --- I/O -----------------------------------------------------------------------------------------


class SmstoolsError(CuckooError):
    """`check()` found a folder missing or not usable: one line per problem, each starting with
    its key ("[sms.gateways.NAME.outgoing] …")."""

    retryable = True


@dataclass
class _Followed:
    """A message in `sent` whose report is awaited."""

    name: str
    phone: str
    ids: set[int]
    sent_at: float  # the sent file's mtime: a report older than this is another message's
    delivered: set[int] = field(default_factory=set)


class SmstoolsGateway:
    """`SmsGateway` over smsd's spool folders. Polling starts with the receipt handler."""

    def __init__(self, name: str, settings: SmstoolsGatewaySettings) -> None:
        self.name = name
        self.settings = settings
        self.outgoing = Path(settings.outgoing)
        self.tmp_dir = Path(settings.tmp_dir) if settings.tmp_dir else self.outgoing.parent
        self.prefix = f"cuckoo-{name}-"
        self._handler: ReceiptHandler | None = None
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[str, float]] = {}  # name → (phone, when written)
        self._followed: dict[tuple[str, int], _Followed] = {}  # (phone, Message_id) → message
        self._seen: dict[str, float] = {}  # report files read: name → mtime
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def _key(self, key: str) -> str:
        return f"[sms.gateways.{self.name}.{key}]"

    def set_receipt_handler(self, handler: ReceiptHandler) -> None:
        self._handler = handler
        self._start()

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(5)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed.is_set():
                return
            self._thread = threading.Thread(
                target=self._run, name=f"smstools-{self.name}", daemon=True
            )
        self._thread.start()

    # --- sending

    def send(self, to: str, text: str, sender: str) -> SubmitResult:
        """One message file into `outgoing`. `sender` is unused: the SIM's number sends."""
        s = self.settings
        if self._closed.is_set():
            return SubmitResult(SubmitState.UNREACHABLE, error=f"smstools {self.name} is closed")
        try:
            data = message_file(to, text.strip(), report=s.status_report)
        except ValueError as e:
            return SubmitResult(SubmitState.REFUSED, error=str(e), parts=0)
        name = self.prefix + secrets.token_hex(8)
        tmp = self.tmp_dir / f".{name}.tmp"
        try:
            with open(tmp, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o664)  # smsd runs as its own user: it must read and move it
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink()
            where = self._key("tmp_dir") if s.tmp_dir else f"{self._key('outgoing')}'s parent"
            return SubmitResult(
                SubmitState.UNREACHABLE, error=f"cannot write {tmp} ({where}): {e.strerror or e}"
            )
        try:
            os.rename(tmp, self.outgoing / name)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink()
            return SubmitResult(
                SubmitState.UNREACHABLE,
                error=f"cannot move the message into {self.outgoing} ({self._key('outgoing')}): "
                f"{e.strerror or e}",
            )
        with self._lock:
            self._pending[name] = (to.lstrip("+"), time.time())
        self._start()
        log.info("smstools %s: queued %s", self.name, name)
        return SubmitResult(SubmitState.ACCEPTED, name)

    # --- following the files

    def _run(self) -> None:
        self._recover()
        while not self._closed.wait(self.settings.poll_interval_s):
            try:
                self.poll()
            except Exception:  # a bad file or a folder gone must not stop the receipts
                log.exception("smstools %s: reading the spool folders failed", self.name)

    def _recover(self) -> None:
        """Our files in sent/failed from the last follow_hours: the state before a restart."""
        since = time.time() - self.settings.follow_hours * 3600
        for folder in (self.settings.sent, self.settings.failed):
            with contextlib.suppress(OSError):
                for entry in os.scandir(folder):
                    if entry.name.startswith(self.prefix) and entry.stat().st_mtime >= since:
                        with self._lock:
                            self._pending.setdefault(entry.name, ("", entry.stat().st_mtime))
        with contextlib.suppress(Exception):
            self.poll()

    def poll(self) -> None:
        """One pass over sent, failed and the report folder (the thread calls it)."""
        s = self.settings
        outcomes: list[tuple[str, str]] = []
        now = time.time()
        with self._lock:
            pending = dict(self._pending)
        for name, (phone, at) in pending.items():
            failed = _read(Path(s.failed) / name)
            if failed is not None:
                headers, _ = parse_file(failed)
                log.info(
                    "smstools %s: %s failed: %s",
                    self.name,
                    name,
                    headers.get("Error", "no Error header"),
                )
                outcomes.append((name, ReceiptStatus.UNDELIVERABLE.value))
                self._forget(name)
                continue
            path = Path(s.sent) / name
            sent = _read(path)
            if sent is not None:
                headers, _ = parse_file(sent)
                ids = message_ids(headers.get("Message_id", ""))
                phone = headers.get("To", phone).lstrip("+ ")
                if s.status_report and ids and phone:
                    with contextlib.suppress(OSError):
                        followed = _Followed(name, phone, ids, path.stat().st_mtime)
                        with self._lock:
                            for i in ids:
                                self._followed[(phone, i)] = followed
                self._forget(name)
            elif now - at > s.follow_hours * 3600:
                self._forget(name)  # smsd never took it (stopped, or a keep_filename = no)
        outcomes.extend(self._reports())
        for message_id, status in outcomes:
            if self._handler is not None:
                try:
                    self._handler(message_id, status)
                except Exception:
                    log.exception("smstools %s: receipt handler failed", self.name)

    def _forget(self, name: str) -> None:
        with self._lock:
            self._pending.pop(name, None)

    def _reports(self) -> list[tuple[str, str]]:
        folder = self.settings.report
        try:
            entries = [e for e in os.scandir(folder) if e.is_file()]
        except OSError as e:
            log.warning("smstools %s: cannot read %s: %s", self.name, folder, e.strerror)
            return []
        out = []
        seen: dict[str, float] = {}
        for entry in entries:
            try:
                mtime = entry.stat().st_mtime
            except OSError:
                continue
            seen[entry.name] = mtime
            if self._seen.get(entry.name) == mtime:
                continue
            data = _read(Path(entry.path))
            report = parse_report(data) if data is not None else None
            if report is None:
                continue
            result = self._fold(report, mtime)
            if result is not None:
                out.append(result)
        self._seen = seen
        return out

    def _fold(self, report: SpoolReport, mtime: float) -> tuple[str, str] | None:
        status = report_status(report.status)
        with self._lock:
            followed = self._followed.get((report.recipient, report.message_id))
            if followed is None or mtime < followed.sent_at - 1:
                return None  # another program's message, or an older one with the same id
            log.info("smstools %s: report for %s: %s", self.name, followed.name, report.words)
            if status is None:
                return None
            if status is ReceiptStatus.DELIVERED:
                followed.delivered.add(report.message_id)
                if followed.delivered < followed.ids:
                    return None
            for i in followed.ids:
                self._followed.pop((followed.phone, i), None)
            return followed.name, status.value

    # --- `cuckoo check`

    def check(self) -> str:
        """The folders exist, cuckoo may write where it writes and read where it reads;
        SmstoolsError (one line per problem, each naming its key) if not."""
        s = self.settings
        problems = []
        wants = [
            ("outgoing", s.outgoing, os.W_OK | os.X_OK, "write"),
            ("sent", s.sent, os.R_OK | os.X_OK, "read"),
            ("failed", s.failed, os.R_OK | os.X_OK, "read"),
            ("report", s.report, os.R_OK | os.X_OK, "read"),
        ]
        tmp_key = "tmp_dir" if s.tmp_dir else "outgoing"
        tmp_label = str(self.tmp_dir) if s.tmp_dir else f"{self.tmp_dir} (outgoing's parent)"
        wants.append((tmp_key, tmp_label, os.W_OK | os.X_OK, "write temporary files in"))
        for key, label, mode, verb in wants:
            path = self.tmp_dir if label == tmp_label else Path(label)
            if not path.is_dir():
                problems.append(f"{self._key(key)} {label}: no such folder")
            elif not os.access(path, mode):
                problems.append(f"{self._key(key)} {label}: cuckoo may not {verb} it")
        if not problems:
            with contextlib.suppress(OSError):
                if self.tmp_dir.stat().st_dev != self.outgoing.stat().st_dev:
                    problems.append(
                        f"{self._key(tmp_key)} {self.tmp_dir} is not on {s.outgoing}'s file "
                        "system: the message could not be moved in at once"
                    )
        if problems:
            raise SmstoolsError("\n".join(problems))
        return f"spool folders ok ({s.outgoing})"


def _read(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(MAX_FILE)
    except OSError:  # not there (yet), or moved on meanwhile
        return None
