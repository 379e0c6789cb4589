"""A GSM modem on a serial port (pyserial) as an SMS gateway: AT commands, PDU mode (27.005).

The port is opened at the first send (or `cuckoo check`) and kept open, because delivery
reports come back on it as unsolicited `+CDS:` lines. Opening it runs:

    AT                  until the modem answers (it may be mid-boot)
    ATE0, AT+CMEE=1     no echo; numeric +CME ERROR codes
    AT+CPIN?            READY, or SIM PIN → AT+CPIN="<pin>" (entered once: after a refusal it
                        is not tried again, since three wrong PINs block the SIM); SIM busy
                        (+CME ERROR: 14, usual after power-up) is waited out, sim_busy_wait_s
    AT+CMGF=0           PDU mode
    AT+CNMI=2,1,0,1,0   status reports routed to us as +CDS (when status_report is on)
Each send: AT+CREG? (and AT+CEREG? for LTE-only registration) must say registered (1 home,
5 roaming), then per part AT+CMGS=<TPDU length>, the ">" prompt, the PDU hex, Ctrl-Z, and
`+CMGS: <message reference>` + OK within send_timeout_s.

What the answers mean for the attempt (pure: `cms_error`, `cme_error`, `registration_problem`):
    +CMS ERROR 1, 8, 10, 21, 28, 29, 30, 50, 69, 96 (the number or the message),
    304 / 305 (invalid PDU / text parameter)                           REFUSED: final
    everything else: 38 network out of order, 330 SMSC address unknown, 500 unknown error,
    +CME ERROR 10 SIM not inserted / 11 SIM PIN required / 14 SIM busy, no network
    (CREG stat 0, 2, 3, 4), no answer in time, the port missing      UNREACHABLE: retried later
Every such error names the port and, where the fix is in cuckoo.toml, the key.

The message id is "<references>@<unix time>" (e.g. "17+18@1764841234"): message references are
one octet, so the time keeps ids unique; a +CDS is matched by its reference and recipient among
the messages this process sent (a report after a restart finds none: the message stays "sent").
A long message is delivered when every part's report says so; any failed part fails it.

Delivery guarantee: no answer after Ctrl-Z leaves the message's fate unknown; the attempt is
UNREACHABLE and retried (at-least-once, as with SMPP). A long message whose later part fails
is retried whole.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import re
import threading
import time
from dataclasses import dataclass, field

import serial

from cuckoo.config.sms import ModemGatewaySettings
from cuckoo.errors import CuckooError, MessageTooLong
from cuckoo.sms.gateway import ReceiptHandler, ReceiptStatus, SubmitResult, SubmitState
from cuckoo.sms.pdu import PduError, StatusReport, decode_status_report, submit_pdus

log = logging.getLogger(__name__)

CTRL_Z = b"\x1a"
ESC = b"\x1b"  # cancels a PDU the modem is waiting for after ">"
MAX_LINE = 4096  # a longer line without CR/LF is noise, not a modem's answer
SYNC_TRIES = 3  # "AT" tries while the modem wakes up
FOLLOW_S = 3 * 86400.0  # a message's reports are awaited this long, then it is forgotten

# --- pure: what the modem's answers mean -------------------------------------------------------

# +CMS ERROR codes (3GPP TS 27.005 §3.2.5, TS 24.011 cause values) whose retry cannot help.
_CMS_FINAL = {
    1: "unassigned (unallocated) number",
    8: "operator determined barring",
    10: "call barred",
    21: "short message transfer rejected",
    28: "unidentified subscriber",
    29: "facility rejected",
    30: "unknown subscriber",
    50: "requested facility not subscribed",
    69: "requested facility not implemented",
    96: "invalid mandatory information",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
}
_CMS_TEMPORARY = {
    27: "destination out of service",
    38: "network out of order",
    41: "temporary failure",
    42: "congestion",
    47: "resources unavailable",
    111: "protocol error",
    300: "ME failure",
    301: "SMS service of ME reserved",
    302: "operation not allowed",
    303: "operation not supported",
    310: "SIM not inserted",
    311: "SIM PIN required",
    313: "SIM failure",
    314: "SIM busy",
    316: "SIM PUK required",
    322: "SIM memory full",
    330: "SMSC address unknown (set it with AT+CSCA, or on the SIM)",
    331: "no network service",
    332: "network timeout",
    500: "unknown error",
}
_CME = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required: the SIM is blocked; unblock it in a phone",
    13: "SIM failure",
    14: "SIM busy",
    15: "SIM wrong",
    16: "incorrect PIN",
    30: "no network service",
    31: "network timeout",
    32: "network not allowed, emergency calls only",
    100: "unknown error",
}
SIM_BUSY_CME = 14
SIM_BUSY_CMS = 314
REGISTERED = {1: "home network", 5: "roaming"}
_REGISTRATION = {
    0: "not registered, not searching",
    2: "not registered, searching",
    3: "registration denied",
    4: "registration unknown",
}


def cms_error(code: int) -> tuple[SubmitState, str]:
    """+CMS ERROR: <code> → what it means for the message, and in words."""
    if code in _CMS_FINAL:
        return SubmitState.REFUSED, f"+CMS ERROR {code}: {_CMS_FINAL[code]}"
    words = _CMS_TEMPORARY.get(code, "manufacturer specific" if code >= 512 else "unknown")
    return SubmitState.UNREACHABLE, f"+CMS ERROR {code}: {words}"


def cme_error(code: int) -> str:
    return f"+CME ERROR {code}: {_CME.get(code, 'unknown')}"


def parse_registration(lines: list[str], prefix: str) -> int | None:
    """`+CREG: <n>,<stat>[,…]` (or +CEREG / +CGREG) → stat; None when there is none."""
    for line in lines:
        if line.startswith(prefix + ":"):
            fields = [f.strip() for f in line.split(":", 1)[1].split(",")]
            with contextlib.suppress(ValueError, IndexError):
                return int(fields[1] if len(fields) > 1 else fields[0])
    return None


def registration_problem(stat: int | None) -> str | None:
    """None when registered (1 home, 5 roaming), else what it is in words."""
    if stat in REGISTERED:
        return None
    if stat is None:
        return "no registration state"
    return f"no network: {_REGISTRATION.get(stat, f'state {stat}')}"


def parse_signal(lines: list[str]) -> int | None:
    """`+CSQ: <rssi>,<ber>` → dBm (-113 + 2·rssi), None when unknown (99)."""
    for line in lines:
        m = re.match(r"\+CSQ:\s*(\d+)\s*,", line)
        if m:
            rssi = int(m.group(1))
            return None if rssi == 99 or rssi > 31 else -113 + 2 * rssi
    return None


class LineSplitter:
    """Bytes from the port → answer lines; the bare ">" prompt of AT+CMGS comes as ">"."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        out: list[str] = []
        while True:
            rest = self._buf.lstrip(b"\r\n")
            if rest.startswith(b">"):  # the prompt: no line end follows it
                out.append(">")
                self._buf = rest[1:].lstrip(b" ")
                continue
            m = re.search(rb"[\r\n]", rest)
            if m is None:
                self._buf = rest if len(rest) <= MAX_LINE else b""
                return out
            line = rest[: m.start()].decode("latin-1").strip()
            self._buf = rest[m.end() :]
            if line:
                out.append(line)


# --- I/O -----------------------------------------------------------------------------------------


class ModemError(CuckooError):
    """`check()` could not get the modem ready (names the port, and the key to fix)."""

    retryable = True


class _Failure(Exception):
    """The attempt ends here: `state` says whether retrying can help."""

    def __init__(self, state: SubmitState, message: str) -> None:
        super().__init__(message)
        self.state = state


class _AtError(Exception):
    """A final ERROR / +CMS ERROR / +CME ERROR answer."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line
        m = re.match(r"\+(CMS|CME) ERROR:\s*(\d+)", line)
        self.kind = m.group(1) if m else ""
        self.code = int(m.group(2)) if m else -1

    def words(self) -> str:
        if self.kind == "CMS":
            return cms_error(self.code)[1]
        if self.kind == "CME":
            return cme_error(self.code)
        return self.line


class _NoAnswer(Exception):
    pass


@dataclass
class _Sent:
    """One message whose status reports are awaited."""

    message_id: str
    phone: str  # digits
    refs: set[int]
    at: float
    delivered: set[int] = field(default_factory=set)


class ModemGateway:
    """`SmsGateway` over one GSM modem. One command at a time: sends queue on a lock."""

    def __init__(self, name: str, settings: ModemGatewaySettings) -> None:
        self.name = name
        self.settings = settings
        self._lock = threading.Lock()  # the port: one AT dialogue at a time
        self._state = threading.Lock()  # _sent
        self._closed = threading.Event()
        self._serial: serial.Serial | None = None
        self._reader: threading.Thread | None = None
        self._lines: queue.Queue[str] = queue.Queue()
        self._ready = False
        self._pin_refused = False
        self._handler: ReceiptHandler | None = None
        self._sent: dict[int, _Sent] = {}  # message reference → its message
        self._reference = random.randrange(256)  # concatenation reference, per long message

    @property
    def where(self) -> str:
        return f"modem {self.name} ({self.settings.port})"

    def _key(self, key: str) -> str:
        return f"[sms.gateways.{self.name}] {key}"

    def set_receipt_handler(self, handler: ReceiptHandler) -> None:
        self._handler = handler

    def close(self) -> None:
        self._closed.set()
        self._drop_port()

    # --- sending

    def send(self, to: str, text: str, sender: str) -> SubmitResult:
        """Every part by AT+CMGS. `sender` is unused: the SIM's own number is the sender."""
        s = self.settings
        if self._closed.is_set():
            return SubmitResult(SubmitState.UNREACHABLE, error=f"{self.where} is closed")
        self._reference = (self._reference + 1) % 256
        try:
            pdus = submit_pdus(
                to,
                text.strip(),
                status_report=s.status_report,
                reference=self._reference,
                validity_minutes=s.validity_minutes,
            )
        except (PduError, MessageTooLong) as e:
            return SubmitResult(SubmitState.REFUSED, error=str(e), parts=0)
        refs: list[int] = []
        with self._lock:
            try:
                self._ensure_ready()
                self._check_network()
                for pdu in pdus:
                    refs.append(self._submit(pdu.tpdu_length, pdu.hex))
            except _Failure as e:
                done = f" after {len(refs)} of {len(pdus)} parts" if refs else ""
                return SubmitResult(e.state, error=f"{self.where}: {e}{done}", parts=len(pdus))
            except _NoAnswer as e:  # AT+CREG? unanswered, or closed meanwhile
                self._drop_port()
                return SubmitResult(
                    SubmitState.UNREACHABLE,
                    error=f"{self.where}: no answer in {s.command_timeout_s:g} s ({e})",
                    parts=len(pdus),
                )
        message_id = "+".join(str(r) for r in refs) + f"@{int(time.time())}"
        if s.status_report:
            self._follow(_Sent(message_id, to.lstrip("+"), set(refs), time.monotonic()))
        log.info("modem %s: accepted, %d part(s), id %s", self.name, len(pdus), message_id)
        return SubmitResult(SubmitState.ACCEPTED, message_id, parts=len(pdus))

    def _submit(self, length: int, pdu_hex: str) -> int:
        s = self.settings
        try:
            self._command(f"AT+CMGS={length}", s.command_timeout_s, prompt=True)
        except _NoAnswer:
            self._write(ESC)  # leave the modem out of PDU input
            self._drop_port()
            raise _Failure(
                SubmitState.UNREACHABLE, f"no > prompt for AT+CMGS in {s.command_timeout_s:g} s"
            ) from None
        except _AtError as e:
            raise self._at_failure(e, "AT+CMGS") from None
        self._write(pdu_hex.encode("ascii") + CTRL_Z)
        try:
            lines = self._collect(s.send_timeout_s, echo="")
        except _NoAnswer:
            self._drop_port()  # its state is unknown: start afresh next time
            raise _Failure(
                SubmitState.UNREACHABLE,
                f"no answer to AT+CMGS in {s.send_timeout_s:g} s (the message may have gone)",
            ) from None
        except _AtError as e:
            raise self._at_failure(e, "AT+CMGS") from None
        for line in lines:
            m = re.match(r"\+CMGS:\s*(\d+)", line)
            if m:
                return int(m.group(1)) % 256
        raise _Failure(SubmitState.UNREACHABLE, "AT+CMGS: OK without a +CMGS reference")

    def _at_failure(self, e: _AtError, command: str) -> _Failure:
        if e.kind == "CMS":
            state, words = cms_error(e.code)
            return _Failure(state, f"{command}: {words}")
        return _Failure(SubmitState.UNREACHABLE, f"{command}: {self._explain(e)}")

    def _explain(self, e: _AtError) -> str:
        if (e.kind == "CME" and e.code == 11) or (e.kind == "CMS" and e.code == 311):
            return f"{e.words()}: set {self._key('pin')} (or pin_env / pin_file)"
        return e.words()

    def _check_network(self) -> None:
        stat = self._registration()
        problem = registration_problem(stat)
        if problem is not None:
            raise _Failure(SubmitState.UNREACHABLE, f"{problem} (AT+CREG? stat {stat})")

    def _registration(self) -> int | None:
        timeout = self.settings.command_timeout_s
        try:
            stat = parse_registration(self._command("AT+CREG?", timeout), "+CREG")
        except _AtError as e:
            raise self._at_failure(e, "AT+CREG?") from None
        if stat in REGISTERED:
            return stat
        try:  # an LTE-only registration shows in +CEREG, not +CREG
            lte = parse_registration(self._command("AT+CEREG?", timeout), "+CEREG")
        except _AtError:  # a 2G/3G modem: no such command
            return stat
        return lte if lte in REGISTERED else stat

    # --- the port

    def _ensure_ready(self) -> None:
        """Open and initialise the port unless it is open and initialised; _Failure if not."""
        if self._ready and self._serial is not None:
            return
        s = self.settings
        self._drop_port()
        try:
            port = serial.Serial(s.port, s.baudrate, timeout=0.1, write_timeout=s.command_timeout_s)
        except (serial.SerialException, OSError, ValueError) as e:
            raise _Failure(
                SubmitState.UNREACHABLE, f"cannot open the port ({self._key('port')}): {e}"
            ) from None
        self._serial = port
        self._lines = queue.Queue()
        self._reader = threading.Thread(
            target=self._read_loop, args=(port, self._lines), name=f"modem-{self.name}", daemon=True
        )
        self._reader.start()
        timeout = s.command_timeout_s
        try:
            self._sync()
            self._command("ATE0", timeout)
            with contextlib.suppress(_AtError):  # old modems: plain ERROR, still usable
                self._command("AT+CMEE=1", timeout)
            self._unlock_sim()
            self._command("AT+CMGF=0", timeout)
            if s.status_report:
                try:
                    self._command("AT+CNMI=2,1,0,1,0", timeout)
                except _AtError as e:
                    log.warning("%s: AT+CNMI refused (%s): no delivery reports", self.where, e)
        except _AtError as e:
            self._drop_port()
            raise _Failure(SubmitState.UNREACHABLE, self._explain(e)) from None
        except _NoAnswer as e:
            self._drop_port()
            raise _Failure(SubmitState.UNREACHABLE, f"no answer in {timeout:g} s ({e})") from None
        except _Failure:
            self._drop_port()
            raise
        self._ready = True

    def _sync(self) -> None:
        wait = min(1.0, self.settings.command_timeout_s)
        for _ in range(SYNC_TRIES - 1):
            with contextlib.suppress(_NoAnswer, _AtError):
                self._command("AT", wait)
                return
        self._command("AT", self.settings.command_timeout_s)

    def _unlock_sim(self) -> None:
        s = self.settings
        deadline = time.monotonic() + s.sim_busy_wait_s
        entered = False
        while True:
            try:
                lines = self._command("AT+CPIN?", s.command_timeout_s)
            except _AtError as e:
                if e.kind == "CME" and e.code == SIM_BUSY_CME and time.monotonic() < deadline:
                    time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
                    continue
                raise
            state = next(
                (ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("+CPIN:")), ""
            )
            if state == "READY":
                return
            if state != "SIM PIN":
                raise _Failure(SubmitState.UNREACHABLE, f"SIM: {state or 'no +CPIN answer'}")
            if entered and time.monotonic() < deadline:  # the PIN was taken: the SIM wakes up
                time.sleep(0.2)
                continue
            if not s.pin:
                raise _Failure(
                    SubmitState.UNREACHABLE,
                    f"SIM PIN required: set {self._key('pin')} (or pin_env / pin_file)",
                )
            if self._pin_refused or entered:
                raise _Failure(
                    SubmitState.UNREACHABLE,
                    f"the SIM refused the PIN of {self._key('pin')}; not entering it again "
                    "(3 wrong PINs block the SIM): fix it and restart",
                )
            try:
                self._command(f'AT+CPIN="{s.pin}"', s.command_timeout_s, echo="AT+CPIN=")
            except _AtError as e:
                if e.kind == "CME" and e.code == SIM_BUSY_CME and time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                self._pin_refused = e.kind == "CME" and e.code in (16, 12)
                raise _Failure(
                    SubmitState.UNREACHABLE,
                    f"the SIM refused the PIN of {self._key('pin')}: {e.words()}; not entering "
                    "it again (3 wrong PINs block the SIM)",
                ) from None
            entered = True

    def _write(self, data: bytes) -> None:
        port = self._serial
        if port is None:
            raise _NoAnswer("the port is closed")
        try:
            port.write(data)
        except (serial.SerialException, OSError) as e:
            self._drop_port()
            raise _Failure(SubmitState.UNREACHABLE, f"writing to the port: {e}") from None

    def _command(
        self, command: str, timeout: float, *, prompt: bool = False, echo: str | None = None
    ) -> list[str]:
        """Send one command; its information lines on OK (or [] at the ">" prompt with
        `prompt`); _AtError on ERROR, _NoAnswer when nothing final comes in `timeout`."""
        while True:  # what came before this command is not its answer
            try:
                self._lines.get_nowait()
            except queue.Empty:
                break
        self._write(command.encode("ascii") + b"\r")
        return self._collect(timeout, echo=command if echo is None else echo, prompt=prompt)

    def _collect(self, timeout: float, *, echo: str, prompt: bool = False) -> list[str]:
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self._closed.is_set():
                raise _NoAnswer("closed" if self._closed.is_set() else "timeout")
            try:
                line = self._lines.get(timeout=min(left, 0.1))
            except queue.Empty:
                if self._serial is None:
                    raise _NoAnswer("the port went away") from None
                continue
            if echo and line.startswith(echo):  # the modem echoes until ATE0
                continue
            if line == ">":
                if prompt:
                    return []
                continue
            if line == "OK":
                return lines
            if line == "ERROR" or re.match(r"\+CM[SE] ERROR:", line):
                raise _AtError(line)
            lines.append(line)

    def _read_loop(self, port: serial.Serial, lines: queue.Queue[str]) -> None:
        """Everything the modem says; +CDS reports are handled here, the rest queued."""
        splitter = LineSplitter()
        cds_length: int | None = None
        while not self._closed.is_set() and self._owns(port):
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError):
                break  # unplugged or closed under us
            for line in splitter.feed(data):
                if cds_length is not None:
                    self._status_report(line, cds_length)
                    cds_length = None
                elif line.startswith("+CDS:"):
                    m = re.match(r"\+CDS:\s*(\d+)", line)
                    cds_length = int(m.group(1)) if m else 0
                elif line.startswith(("RING", "+CMTI:", "+CDSI:", "^")):
                    log.debug("%s: unsolicited %s", self.where, line)
                else:
                    lines.put(line)
        if self._serial is port:
            log.warning("%s: the port stopped answering; reopened at the next send", self.where)
            self._ready = False

    def _owns(self, port: serial.Serial) -> bool:
        """This reader's port is still the gateway's (a separate test, so the type stays)."""
        return self._serial is port

    def _drop_port(self) -> None:
        port, self._serial, self._ready = self._serial, None, False
        reader, self._reader = self._reader, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()
        if reader is not None and reader is not threading.current_thread():
            reader.join(1.0)

    # --- delivery reports

    def _follow(self, sent: _Sent) -> None:
        now = time.monotonic()
        with self._state:
            for ref, old in list(self._sent.items()):
                if now - old.at > FOLLOW_S:
                    del self._sent[ref]
            for ref in sent.refs:  # a reused reference now means this message
                self._sent[ref] = sent

    def _status_report(self, pdu_hex: str, length: int) -> None:
        try:
            report = decode_status_report(pdu_hex, length or None)
        except PduError as e:
            log.warning("%s: unreadable status report (%s)", self.where, e)
            return
        result = self._fold(report)
        if result is None or self._handler is None:
            return
        try:
            self._handler(*result)
        except Exception:  # the receipt is lost, the modem's reader must not die
            log.exception("%s: receipt handler failed", self.where)

    def _fold(self, report: StatusReport) -> tuple[str, str] | None:
        """A part's report → (message id, status) once the message's fate is known."""
        with self._state:
            sent = self._sent.get(report.reference)
            if sent is None or sent.phone[-10:] != report.recipient.lstrip("+")[-10:]:
                log.info("%s: a status report for a message not sent here", self.where)
                return None
            log.info("%s: report for %s: %s", self.where, sent.message_id, report.meaning)
            if report.outcome is None:  # the SMSC still tries
                return None
            if report.outcome is ReceiptStatus.DELIVERED:
                sent.delivered.add(report.reference)
                if sent.delivered < sent.refs:
                    return None
            for ref in sent.refs:
                if self._sent.get(ref) is sent:
                    del self._sent[ref]
            return sent.message_id, report.outcome.value

    # --- `cuckoo check`

    def check(self) -> str:
        """Open the port, unlock the SIM, read registration and signal: a summary, or
        ModemError naming the port and the key to fix. Nothing is sent."""
        with self._lock:
            try:
                self._ensure_ready()
                stat = self._registration()
                signal = parse_signal(self._command("AT+CSQ", self.settings.command_timeout_s))
            except _Failure as e:
                raise ModemError(f"{self.where}: {e}") from None
            except _AtError as e:
                raise ModemError(f"{self.where}: {self._explain(e)}") from None
            except _NoAnswer:
                raise ModemError(
                    f"{self.where}: no answer in {self.settings.command_timeout_s:g} s"
                ) from None
        level = "signal unknown (CSQ 99)" if signal is None else f"signal {signal} dBm"
        problem = registration_problem(stat)
        if problem is not None:
            raise ModemError(f"{self.where}: SIM ready, {problem} (AT+CREG? stat {stat}), {level}")
        return f"SIM ready, registered ({REGISTERED[stat or 1]}), {level}"
