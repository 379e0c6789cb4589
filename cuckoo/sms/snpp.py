"""SNPP gateway: RFC 1861 (Simple Network Paging Protocol) levels 1-2, as a client.

One TCP session per message, all within `timeout_s`:

    <- 220 greeting
    -> LOGIn <login> [<password>]        level 2, only when a login is configured
    -> PAGEr <pager id>                   the phone: 79123456789 (or +79… with dest_format)
    -> MESSage <text>                     one line; or, level 2, for line breaks / long texts:
    -> DATA  <- 354, the lines, "."       (dot-stuffed like SMTP)
    -> SEND  <- 250 (or 8xx/9xx: level 3 gateways' "delivered"/"queued")
    -> QUIT  <- 221

Replies (RFC 1861 §4.6): 2yz/8yz/9yz success, 3yz go on with DATA, 4yz the gateway ends the
session (421), 5yz failed but the session goes on, 7yz a failed two-way transaction.
What they mean for the attempt, as the other gateways map theirs:
    4xx, 554 ("failed, technical reason": gateway or paging terminal down), a refused /
        reset / silent connection, a garbled reply, a refused LOGIn (a set-up problem, like an
        SMPP bind refusal)                                  -> UNREACHABLE: retried later
    550 (invalid pager id, message too long or invalid), 552, 503, 500, 7xx
                                                            -> REFUSED: retrying won't help
Text: encoded with `encoding` (default utf-8; cp1251 / koi8-r for many Russian operators'
gateways). Typographic characters the encoding lacks get plain stand-ins ("№" → "N" in koi8-r,
"«»" → '"'); any other character it lacks refuses the message rather than sending "?".

No delivery receipts: SNPP has none below level 3 (and level 3 is two-way paging, not SMS), so
an accepted message has no gateway message id and its outcome stays "sent".

Delivery guarantee: if the link drops or goes silent after SEND was written but before its
answer, the attempt is UNREACHABLE and retried: the customer may rarely get a duplicate
(at-least-once, as with SMPP), never nothing.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass

from cuckoo.config.sms import SnppGatewaySettings
from cuckoo.errors import CuckooError
from cuckoo.sms.gateway import ReceiptHandler, SubmitResult, SubmitState

log = logging.getLogger(__name__)

# Longest MESS command line (bytes, CRLF included) we send; longer texts go by DATA (level 2).
# RFC 1861 sets no limit, but gateways in front of TAP terminals often cut lines near 256.
MESS_MAX_BYTES = 250
MAX_REPLY_BYTES = 4096  # a reply line longer than this is not SNPP: stop reading
QUIT_WAIT_S = 2.0  # how long to wait for QUIT's 221 once the message is accepted


class SnppError(CuckooError):
    """`check()` could not talk SNPP with the gateway."""

    retryable = True


class _Temporary(Exception):
    """The session failed in a way that trying later can fix (→ UNREACHABLE)."""


class _Refused(Exception):
    """The gateway said no to this message (→ REFUSED)."""


@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}".rstrip()


def classify(code: int) -> str:
    """A reply code → "ok", "refused" or "temporary" (what it means for the message)."""
    family = code // 100
    if family in (2, 8, 9):  # 8yz / 9yz: level 3 "delivered" / "queued" answers to SEND
        return "ok"
    if family == 4 or code == 554:  # 421 gone; 554 technical failure (gateway/terminal down)
        return "temporary"
    if family in (5, 7):
        return "refused"
    return "temporary"  # not an SNPP answer: the gateway is misbehaving, not the message


class _Session:
    """One SNPP conversation over a connected socket, every read bounded by `deadline`."""

    def __init__(self, sock: socket.socket, encoding: str, deadline: float) -> None:
        self.sock = sock
        self.encoding = encoding
        self.deadline = deadline
        self._buf = b""

    def _timeout(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError()
        return left

    def write(self, line: bytes) -> None:
        self.sock.settimeout(self._timeout())
        self.sock.sendall(line + b"\r\n")

    def reply(self) -> Reply:
        """The next reply, skipping 214 help lines (multi-line replies end with a final code)."""
        while True:
            line = self._read_line()
            head, _, rest = line.partition(" ")
            if len(head) != 3 or not head.isdigit():
                raise _Temporary(f"not an SNPP reply: {line[:60]!r}")
            if head != "214":
                return Reply(int(head), rest.strip())

    def _read_line(self) -> str:
        while b"\n" not in self._buf:
            if len(self._buf) > MAX_REPLY_BYTES:
                raise _Temporary("reply line too long: not an SNPP gateway?")
            self.sock.settimeout(self._timeout())
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionResetError("the gateway closed the connection")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\n")
        return raw.rstrip(b"\r").decode(self.encoding, "replace")

    def command(self, line: bytes, what: str, *, expect: int | None = None) -> Reply:
        """Send one command; return its reply if it is a success (or `expect`), else raise
        _Temporary / _Refused naming `what` (the command, never its argument)."""
        self.write(line)
        return self.judge(self.reply(), what, expect=expect)

    @staticmethod
    def judge(reply: Reply, what: str, *, expect: int | None = None) -> Reply:
        if expect is not None and reply.code == expect:
            return reply
        verdict = classify(reply.code)
        if verdict == "ok" and expect is None:
            return reply
        if verdict == "refused":
            raise _Refused(f"{what}: {reply}")
        raise _Temporary(f"{what}: {reply}")


# Stand-ins for typographic characters an 8-bit encoding may lack (koi8-r has no "№", "«»",
# "—" or "€"), so an ordinary Russian text is not refused for them. Anything else it lacks
# (emoji, other scripts) refuses the message.
_FALLBACK = {
    "№": "N",
    "«": '"',
    "»": '"',
    "„": '"',
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "—": "-",
    "–": "-",
    "−": "-",
    "…": "...",
    "€": "EUR",
    "\u00a0": " ",  # no-break space
}


def encode(text: str, encoding: str) -> bytes:
    """`text` in `encoding`, with _FALLBACK stand-ins for what it lacks; UnicodeEncodeError
    names the first character that has none."""
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        pass

    def one(c: str) -> str:
        try:
            c.encode(encoding)
        except UnicodeEncodeError:
            return _FALLBACK.get(c, c)
        return c

    return "".join(one(c) for c in text).encode(encoding)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


class SnppGateway:
    """`SmsGateway` over SNPP. Connects per message, so `send` is thread-safe as it is;
    `close()` cuts sessions still running and refuses new ones."""

    def __init__(self, name: str, settings: SnppGatewaySettings) -> None:
        self.name = name
        self.settings = settings
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._socks: set[socket.socket] = set()

    def set_receipt_handler(self, handler: ReceiptHandler) -> None:
        """Kept for the interface: SNPP gives no delivery receipts, so it is never called."""

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:  # a send still waiting ends at once as UNREACHABLE
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    @property
    def where(self) -> str:
        return f"SNPP {self.name} ({self.settings.host}:{self.settings.port})"

    # --- sending

    def send(self, to: str, text: str, sender: str) -> SubmitResult:
        """PAGE/MESS(or DATA)/SEND one message. `sender` is unused: SNPP has no sender field
        below level 3's CALLerid, and gateways put their own (registered) name."""
        s = self.settings
        if self._closed.is_set():
            return SubmitResult(SubmitState.UNREACHABLE, error=f"{self.where} is closed")
        lines = _lines(text.strip())
        if not "".join(lines).strip():
            return SubmitResult(SubmitState.REFUSED, error="empty SMS text", parts=0)
        length = len("\n".join(lines))
        if s.max_message_chars and length > s.max_message_chars:
            return SubmitResult(
                SubmitState.REFUSED,
                error=f"message too long: {length} characters; [sms.gateways.{self.name}] "
                f"max_message_chars = {s.max_message_chars}",
            )
        try:
            encoded = [encode(line, s.encoding) for line in lines]
        except UnicodeEncodeError as e:
            bad = e.object[e.start : e.end]
            return SubmitResult(
                SubmitState.REFUSED,
                error=f"{bad!r} cannot be sent in {s.encoding} "
                f"([sms.gateways.{self.name}] encoding)",
            )
        pager = to.lstrip("+") if s.dest_format == "international" else to
        if not pager.isascii() or not pager.strip():
            return SubmitResult(SubmitState.REFUSED, error=f"pager id {to!r} is not ASCII")
        deadline = time.monotonic() + s.timeout_s
        try:
            reply = self._session(pager.encode("ascii"), encoded, deadline)
        except _Refused as e:
            return SubmitResult(SubmitState.REFUSED, error=f"SNPP gateway refused: {e}")
        except _Temporary as e:
            return SubmitResult(SubmitState.UNREACHABLE, error=f"{self.where}: {e}")
        except TimeoutError:
            return SubmitResult(
                SubmitState.UNREACHABLE,
                error=f"{self.where} unreachable: no answer in {s.timeout_s:g} s",
            )
        except UnicodeEncodeError:  # the login or password, not the text (checked above)
            return SubmitResult(
                SubmitState.UNREACHABLE,
                error=f"{self.where}: login/password cannot be sent in {s.encoding}",
            )
        except OSError as e:  # refused, reset, no route, name not resolved
            why = e.strerror or str(e) or type(e).__name__
            return SubmitResult(SubmitState.UNREACHABLE, error=f"{self.where} unreachable: {why}")
        log.debug("SNPP %s: accepted (%s)", self.name, reply.code)
        return SubmitResult(SubmitState.ACCEPTED, None)

    def _connect(self, deadline: float) -> socket.socket:
        s = self.settings
        sock = socket.create_connection(
            (s.host, s.port), timeout=max(0.01, deadline - time.monotonic())
        )
        with self._lock:
            self._socks.add(sock)
        if self._closed.is_set():  # close() ran while we connected: it missed this socket
            self._forget(sock)
            raise _Temporary("closed")
        return sock

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.discard(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _session(self, pager: bytes, lines: list[bytes], deadline: float) -> Reply:
        s = self.settings
        sock = self._connect(deadline)
        session = _Session(sock, s.encoding, deadline)
        try:
            session.judge(session.reply(), "greeting")
            try:
                if s.login:
                    login = s.login.encode(s.encoding)
                    if s.password:
                        login += b" " + s.password.encode(s.encoding)
                    try:
                        session.command(b"LOGI " + login, "LOGIn")
                    except _Refused as e:  # wrong credentials: the set-up's fault, not the text's
                        raise _Temporary(f"{e} (check [sms.gateways.{self.name}] login)") from e
                session.command(b"PAGE " + pager, "PAGEr")
                self._message(session, lines)
                sent = session.command(b"SEND", "SEND")
            except _Refused:
                _quit(session)  # the session itself is fine: leave politely
                raise
            _quit(session)
            return sent
        finally:
            self._forget(sock)

    def _message(self, session: _Session, lines: list[bytes]) -> None:
        one_line = b" ".join(line.strip() for line in lines if line.strip())
        multi = len(lines) > 1 or len(b"MESS " + one_line) + 2 > MESS_MAX_BYTES
        if self.settings.level >= 2 and multi:
            session.write(b"DATA")
            reply = session.reply()
            if reply.code == 354:
                for line in lines:  # dot-stuffing: a line starting with "." gets another
                    session.write(b"." + line if line.startswith(b".") else line)
                session.command(b".", "DATA")
                return
            if reply.code != 500:  # 500: a level 1 gateway after all; one line will do
                session.judge(reply, "DATA", expect=354)
        session.command(b"MESS " + one_line, "MESSage")

    # --- `cuckoo check`

    def check(self) -> str:
        """Connect, read the greeting, QUIT: the gateway's greeting, or SnppError."""
        deadline = time.monotonic() + self.settings.timeout_s
        try:
            sock = self._connect(deadline)
            try:
                session = _Session(sock, self.settings.encoding, deadline)
                greeting = session.judge(session.reply(), "greeting")
                _quit(session)
            finally:
                self._forget(sock)
        except (_Temporary, _Refused) as e:
            raise SnppError(f"{self.where}: {e}") from e
        except TimeoutError as e:
            raise SnppError(f"{self.where}: no greeting in {self.settings.timeout_s:g} s") from e
        except OSError as e:
            raise SnppError(f"{self.where} unreachable: {e.strerror or e}") from e
        return str(greeting)


def _quit(session: _Session) -> None:
    """Best effort: the message's fate is settled; a gateway that doesn't answer QUIT is fine."""
    session.deadline = time.monotonic() + QUIT_WAIT_S
    with contextlib.suppress(Exception):
        session.write(b"QUIT")
        session.reply()
