"""A GSM modem on a pseudo-terminal, for tests: the gateway (or smsd) opens `modem.path` as it
would /dev/ttyUSB0 and talks AT commands to it; a thread answers.

    with ModemEmulator(pin="1234") as modem:
        ... ModemGatewaySettings(port=modem.path, pin="1234") ...
        [message] = modem.wait_messages(1)   # reassembled from the PDUs: to, text, parts
        modem.submitted[0].dcs               # every SMS-SUBMIT, decoded here on its own

Its decoder of SMS-SUBMIT PDUs and its encoder of status reports are written separately from
cuckoo.sms.pdu, so a test that decodes what cuckoo encoded checks the encoder against a second
reading of 3GPP TS 23.040, not against itself.

Commands: AT, ATE0/ATE1, AT+CMEE, AT+CPIN? / AT+CPIN="…", AT+CSQ, AT+CREG?, AT+CEREG?,
AT+CMGF, AT+CNMI, AT+CMGS=<n> (">" prompt, hex PDU, Ctrl-Z → +CMGS: <mr>), AT+CSCA?, AT+CGSN,
AT+CIMI, AT+CPMS? / AT+CPMS=…, AT+CMGL; anything else answers OK.
Status reports go out as `+CDS: <length>` + the PDU when AT+CNMI asked for them (ds = 1).

Faults (attributes, change them any time):
    cms_errors       a list: each next AT+CMGS answers +CMS ERROR: <the first>
    registration     AT+CREG?'s stat (1 home; 0, 2, 3: no network); lte_registration for CEREG
    sim_busy         how many AT+CPIN? answer +CME ERROR: 14 first
    sim_missing      AT+CPIN? answers +CME ERROR: 10
    pin              the SIM wants this PIN (AT+CPIN? says SIM PIN until it is entered)
    silent           answer nothing at all; silent_after_pdu: nothing after the Ctrl-Z
    report_status    TP-ST of the automatic status report (None: no report); report_delay_s
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import threading
import time
import tty
from dataclasses import dataclass
from typing import Any

# GSM 03.38 default alphabet and its extension table, written out here on purpose (see above).
_GSM = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = {0x0A: "\x0c", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~"}
_GSM_EXT |= {0x3E: "]", 0x40: "|", 0x65: "€"}
assert len(_GSM) == 128


@dataclass
class Submitted:
    """One SMS-SUBMIT as the emulator read it."""

    to: str
    toa: int
    status_report: bool
    dcs: int
    validity: int | None
    text: str
    concat: tuple[int, int, int] | None  # (reference, total, seq)
    mr: int
    tpdu: bytes


@dataclass
class Message:
    """The parts of one message put together, as a phone would."""

    to: str
    text: str
    parts: list[Submitted]


def _semi_octets(raw: bytes, count: int) -> str:
    return "".join(f"{b & 0xF:x}{b >> 4:x}" for b in raw)[:count]


def _septets(ud: bytes, skip_bits: int, count: int) -> list[int]:
    """Septets of a packed 7-bit stream: the user data as one little-endian integer."""
    value = int.from_bytes(ud, "little")
    return [(value >> (skip_bits + 7 * i)) & 0x7F for i in range(count)]


def _gsm_text(values: list[int]) -> str:
    out, escape = [], False
    for v in values:
        if escape:
            out.append(_GSM_EXT.get(v, "?"))
            escape = False
        elif v == 0x1B:
            escape = True
        else:
            out.append(_GSM[v])
    return "".join(out)


def decode_submit(tpdu: bytes) -> Submitted:
    """An SMS-SUBMIT TPDU (no SMSC part) → its fields; ValueError when it is not one."""
    first = tpdu[0]
    if first & 0x03 != 0x01:
        raise ValueError("not an SMS-SUBMIT")
    vpf = (first >> 3) & 0x03
    digits, toa = tpdu[2], tpdu[3]
    i = 4 + (digits + 1) // 2
    to = _semi_octets(tpdu[4:i], digits)
    dcs = tpdu[i + 1]
    i += 2
    validity = None
    if vpf == 2:
        validity = tpdu[i]
        i += 1
    elif vpf in (1, 3):
        i += 7
    udl = tpdu[i]
    ud = tpdu[i + 1 :]
    header = b""
    if first & 0x40:
        header = ud[: 1 + ud[0]]
    concat = None
    j = 1
    while j < len(header):  # information elements: IEI, length, data
        iei, length = header[j], header[j + 1]
        if iei == 0x00 and length == 3:
            concat = (header[j + 2], header[j + 3], header[j + 4])
        j += 2 + length
    if dcs & 0x0C == 0x08:
        if len(ud) != udl:
            raise ValueError("UCS2 user data length mismatch")
        text = ud[len(header) :].decode("utf-16-be")
    elif dcs & 0x0C == 0x00:
        header_bits = len(header) * 8
        skip = header_bits + (-header_bits) % 7
        if (udl * 7 + 7) // 8 != len(ud):
            raise ValueError("7-bit user data length mismatch")
        text = _gsm_text(_septets(ud, skip, udl - skip // 7))
    else:
        raise ValueError(f"unexpected DCS {dcs:#x}")
    return Submitted(to, toa, bool(first & 0x20), dcs, validity, text, concat, tpdu[1], tpdu)


def status_report(mr: int, recipient: str, status: int) -> tuple[int, str]:
    """An SMS-STATUS-REPORT as a modem hands it over: (TPDU length, SMSC address + TPDU hex)."""
    smsc = bytes.fromhex("07919730071111F1")  # +79037011111
    digits = recipient.lstrip("+")
    padded = digits + "f" * (len(digits) % 2)
    address = bytes((len(digits), 0x91)) + bytes.fromhex(
        "".join(padded[k + 1] + padded[k] for k in range(0, len(padded), 2))
    )
    stamp = bytes.fromhex("52217031154021")  # 25-12-07 13:51:04 +03
    tpdu = bytes((0x06, mr)) + address + stamp + stamp + bytes((status,))
    return len(tpdu), (smsc + tpdu).hex().upper()


class ModemEmulator:
    def __init__(
        self,
        *,
        pin: str | None = None,
        echo: bool = True,
        registration: int = 1,
        lte_registration: int | None = None,
        signal: int = 20,
        report_status: int | None = 0,
        report_delay_s: float = 0.05,
        first_mr: int = 0,
    ) -> None:
        self.pin = pin
        self.echo = echo
        self.registration = registration
        self.lte_registration = lte_registration
        self.signal = signal
        self.report_status = report_status
        self.report_delay_s = report_delay_s
        self.cms_errors: list[int] = []
        self.sim_busy = 0
        self.sim_missing = False
        self.silent = False
        self.silent_after_pdu = False
        self.commands: list[str] = []
        self.submitted: list[Submitted] = []
        self.wrong_pins: list[str] = []
        self.cnmi = ""
        self._unlocked = pin is None
        self._mr = first_mr
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or line editing by the pty itself
        self.path = os.ttyname(self._slave)
        self._write_lock = threading.Lock()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modem-emulator", daemon=True)
        self._thread.start()

    # --- for tests

    def __enter__(self) -> ModemEmulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def messages(self) -> list[Message]:
        """Submitted PDUs put together: concatenated parts by (to, reference), in seq order."""
        out: list[Message] = []
        groups: dict[tuple[str, int], list[Submitted]] = {}
        for s in list(self.submitted):
            if s.concat is None:
                out.append(Message(s.to, s.text, [s]))
                continue
            key = (s.to, s.concat[0])
            groups.setdefault(key, []).append(s)
            parts = groups[key]
            if len(parts) == s.concat[1]:
                parts.sort(key=lambda p: p.concat[2] if p.concat else 0)
                out.append(Message(s.to, "".join(p.text for p in parts), parts))
                del groups[key]
        return out

    def wait_messages(self, count: int, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages()) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"waited {timeout} s for {count} messages: {self.messages()}"
                self._changed.wait(left)
        return self.messages()

    def send_report(self, mr: int, recipient: str, status: int) -> None:
        """An unsolicited +CDS now, as the network's status report for `mr`."""
        length, pdu = status_report(mr, recipient, status)
        self._out(f"\r\n+CDS: {length}\r\n{pdu}\r\n")

    # --- the modem

    def _out(self, text: str) -> None:
        with self._write_lock, contextlib.suppress(OSError):
            os.write(self._master, text.encode("latin-1"))

    def _run(self) -> None:
        buf = b""
        pdu_length: int | None = None  # waiting for a PDU after the ">" prompt
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                time.sleep(0.05)  # nobody has the port open: EIO until someone does
                continue
            buf += data
            while True:
                if pdu_length is not None:
                    end = re.search(rb"[\x1a\x1b]", buf)
                    if end is None:
                        break
                    body, cancel = buf[: end.start()], buf[end.start()] == 0x1B
                    buf = buf[end.end() :]
                    length, pdu_length = pdu_length, None
                    if not cancel:
                        self._pdu(body.decode("latin-1").strip(), length)
                    continue
                m = re.search(rb"[\r\n]", buf)
                if m is None:
                    break
                line = buf[: m.start()].decode("latin-1").strip()
                buf = buf[m.end() :]
                if not line:
                    continue
                with self._changed:
                    self.commands.append(line)
                    self._changed.notify_all()
                if self.silent:
                    continue
                if self.echo:
                    self._out(line + "\r")
                pdu_length = self._command(line)

    def _ok(self, *lines: str) -> None:
        self._out("".join(f"\r\n{line}\r\n" for line in lines) + "\r\nOK\r\n")

    def _error(self, line: str) -> None:
        self._out(f"\r\n{line}\r\n")

    def _command(self, line: str) -> int | None:
        """Answer one command line; the PDU length when a PDU is to follow."""
        cmd = line.upper()
        if cmd == "AT" or cmd.startswith("ATZ") or cmd in ("AT+CMEE=1", "AT+CMGF=0"):
            self._ok()
        elif cmd.startswith("ATE"):
            self.echo = cmd.endswith("1")
            self._ok()
        elif cmd == "AT+CPIN?":
            if self.sim_missing:
                self._error("+CME ERROR: 10")
            elif self.sim_busy > 0:
                self.sim_busy -= 1
                self._error("+CME ERROR: 14")
            else:
                self._ok("+CPIN: READY" if self._unlocked else "+CPIN: SIM PIN")
        elif cmd.startswith("AT+CPIN="):
            given = line.split("=", 1)[1].strip().strip('"')
            if given == self.pin:
                self._unlocked = True
                self._ok()
            else:
                self.wrong_pins.append(given)
                self._error("+CME ERROR: 16")
        elif not self._unlocked and cmd.startswith(("AT+CMGS", "AT+CREG", "AT+CSQ")):
            self._error("+CME ERROR: 11")
        elif cmd == "AT+CSQ":
            self._ok(f"+CSQ: {self.signal},99")
        elif cmd == "AT+CREG?":
            self._ok(f"+CREG: 0,{self.registration}")
        elif cmd == "AT+CEREG?":
            if self.lte_registration is None:
                self._error("ERROR")
            else:
                self._ok(f"+CEREG: 0,{self.lte_registration}")
        elif cmd.startswith("AT+CNMI="):
            self.cnmi = cmd.split("=", 1)[1]
            self._ok()
        elif cmd == "AT+CSCA?":
            self._ok('+CSCA: "+79037011111",145')
        elif cmd in ("AT+CGSN", "AT+GSN"):
            self._ok("356938035643809")
        elif cmd == "AT+CIMI":
            self._ok("250011234567890")
        elif cmd.startswith("AT+CPMS?"):
            self._ok('+CPMS: "SM",0,20,"SM",0,20,"SM",0,20')
        elif cmd.startswith("AT+CPMS="):
            self._ok("+CPMS: 0,20,0,20,0,20")
        elif cmd.startswith("AT+CMGS="):
            self._out("\r\n> ")
            return int(cmd.split("=", 1)[1])
        else:
            self._ok()  # AT+CMGL, AT^CURC, …: nothing to report
        return None

    def _pdu(self, pdu_hex: str, length: int) -> None:
        try:
            data = bytes.fromhex(pdu_hex)
            tpdu = data[1 + data[0] :]
            if len(tpdu) != length:
                raise ValueError(f"AT+CMGS={length} but the TPDU has {len(tpdu)} octets")
            submitted = decode_submit(tpdu)
        except (ValueError, IndexError):
            self._error("+CMS ERROR: 304")
            return
        if self.silent_after_pdu:
            return
        if self.cms_errors:
            self._error(f"+CMS ERROR: {self.cms_errors.pop(0)}")
            return
        mr = self._mr
        self._mr = (self._mr + 1) % 256
        submitted.mr = mr
        with self._changed:
            self.submitted.append(submitted)
            self._changed.notify_all()
        self._ok(f"+CMGS: {mr}")
        wants = self.cnmi.split(",")[3:4] == ["1"]
        if submitted.status_report and wants and self.report_status is not None:
            status = self.report_status
            timer = threading.Timer(
                self.report_delay_s, self.send_report, (mr, submitted.to, status)
            )
            timer.daemon = True
            timer.start()
