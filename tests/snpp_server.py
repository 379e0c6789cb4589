"""A small but faithful SNPP server (RFC 1861 levels 1-2) for tests, on a real TCP port.

    with SnppServer(level=2, logins={"shop": "pw"}) as server:
        ... connect to 127.0.0.1:server.port ...
        page = server.wait_page()          # what a SEND delivered: pagers, message bytes, login
        server.sessions[0].verbs()         # ["PAGE", "MESS", "SEND", "QUIT"]

Commands are matched on their first four letters, case-insensitively (RFC 1861 §4: "PAGEr",
"MESSage", … may be abbreviated). Level 1: PAGE MESS RESE SEND QUIT HELP. Level 2 adds DATA
(354, lines, "." with SMTP-style dot-stuffing), LOGI, LEVE, ALER, COVE, HOLD, CALL, SUBJ.

Failures to trigger (attributes, change them any time):
    unknown_pagers      PAGE of these ids → 550 Error, Invalid Pager ID
    failing_pagers      PAGE of these ids → 554 Error, failed (technical reason)
    max_message_bytes   a longer MESS / DATA message → 550 Error, Message Too Long
    greeting            the first line; e.g. "421 Gateway Service Unavailable" (then it closes)
    gone_on             a verb ("SEND", "PAGE", …): answer it "421 …" and close the connection
    stall_on            a verb, or "greeting": from then on read but never answer
    send_reply          the answer to a good SEND (default "250 Message Sent Successfully")
    logins              login → password; LOGI with others → 550 Error, Invalid Login
    require_login       PAGE before a good LOGI → 550 Error, Login Required
Too many bad commands (5) end the session with "421 Too Many Errors, Goodbye", as §4.6 allows.

Run it by hand: python tests/snpp_server.py [PORT]  (prints what it receives).
"""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

MAX_ERRORS = 5


@dataclass
class Page:
    """One SEND the server accepted."""

    pagers: list[str]
    message: bytes  # as received (after dot-unstuffing), lines joined with b"\n"
    login: str | None
    via: str  # "MESS" or "DATA"

    def text(self, encoding: str) -> str:
        return self.message.decode(encoding)


@dataclass
class Session:
    """One connection: every line the client sent, raw."""

    lines: list[bytes] = field(default_factory=list)
    text_lines: set[int] = field(default_factory=set)  # indexes of DATA's lines and its "."
    closed_by_client: bool = False

    def verbs(self) -> list[str]:
        """The commands (first four letters, upper case), not DATA's text lines."""
        return [
            line.split(b" ", 1)[0][:4].decode("ascii", "replace").upper()
            for i, line in enumerate(self.lines)
            if i not in self.text_lines
        ]


class SnppServer:
    def __init__(self, *, level: int = 2, port: int = 0, **triggers: Any) -> None:
        self.level = level
        self.unknown_pagers: set[str] = set()
        self.failing_pagers: set[str] = set()
        self.max_message_bytes = 0  # 0 = no limit
        self.greeting = "220 SNPP (V3) Gateway Ready"
        self.gone_on = ""
        self.stall_on = ""
        self.send_reply = "250 Message Sent Successfully"
        self.logins: dict[str, str] = {}
        self.require_login = False
        for key, value in triggers.items():
            if not hasattr(self, key):
                raise TypeError(f"unknown trigger {key!r}")
            setattr(self, key, value)
        self.sessions: list[Session] = []
        self.pages: list[Page] = []
        self._ended = 0  # sessions over, by either side
        self._cond = threading.Condition()
        self._stop = threading.Event()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", port), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def __enter__(self) -> SnppServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()  # stalled handlers let go
        self._server.shutdown()
        self._server.server_close()

    # --- what the tests read

    def wait_page(self, count: int = 1, timeout: float = 10) -> Page:
        """The `count`-th accepted page (1-based), waiting for it."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.pages) >= count, timeout)
            assert ok, f"waited {timeout} s for {count} page(s), got {len(self.pages)}"
            return self.pages[count - 1]

    def wait_closed(self, count: int = 1, timeout: float = 10) -> list[Session]:
        """The sessions, once `count` of them have ended (by either side)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self._ended >= count, timeout)
            assert ok, f"waited {timeout} s for {count} session(s) to end"
            return list(self.sessions)

    # --- the protocol

    def _serve(self, sock: socket.socket) -> None:
        session = Session()
        with self._cond:
            self.sessions.append(session)
        conn = _Conn(sock, session, self._stop)
        try:
            self._converse(conn, session)
        except (ConnectionError, OSError):
            pass
        finally:
            with self._cond:
                self._ended += 1
                self._cond.notify_all()

    def _converse(self, conn: _Conn, session: Session) -> None:
        if self.stall_on == "greeting":
            conn.stall()
            return
        conn.say(self.greeting)
        if self.greeting.startswith("4"):
            return
        pagers: list[str] = []
        message: bytes | None = None
        via = ""
        login: str | None = None
        errors = 0
        while True:
            line = conn.line()
            if line is None:
                session.closed_by_client = True
                return
            verb, _, arg = line.partition(b" ")
            cmd = verb[:4].decode("ascii", "replace").upper()
            if cmd == self.stall_on:
                conn.stall()
                return
            if cmd == self.gone_on:
                conn.say("421 Gateway Service Unavailable")
                return
            level2 = cmd in ("DATA", "LOGI", "LEVE", "ALER", "COVE", "HOLD", "CALL", "SUBJ")
            reply: str
            if level2 and self.level < 2:
                reply = "500 Command Not Implemented"
            elif cmd == "QUIT":
                conn.say("221 OK, Goodbye")
                return
            elif cmd == "PAGE":
                pager = arg.split(b" ", 1)[0].decode("ascii", "replace")
                if self.require_login and login is None:
                    reply = "550 Error, Login Required"
                elif not pager or pager in self.unknown_pagers:
                    reply = "550 Error, Invalid Pager ID"
                elif pager in self.failing_pagers:
                    reply = "554 Error, failed (technical reason)"
                else:
                    pagers.append(pager)
                    reply = "250 Pager ID Accepted"
            elif cmd == "MESS":
                if message is not None:
                    reply = "503 ERROR, Message Already Entered"
                elif not arg.strip():
                    reply = "550 Error, Invalid Message"
                elif self.max_message_bytes and len(arg) > self.max_message_bytes:
                    reply = "550 Error, Message Too Long"
                else:
                    message, via = arg, "MESS"
                    reply = "250 Message OK"
            elif cmd == "DATA":
                if message is not None:
                    reply = "503 ERROR, Message Already Entered"
                else:
                    conn.say("354 Begin Input; End with <CRLF>'.'<CRLF>")
                    text = conn.data()
                    if text is None:
                        session.closed_by_client = True
                        return
                    if self.max_message_bytes and len(text) > self.max_message_bytes:
                        reply = "550 Error, Message Too Long"
                    else:
                        message, via = text, "DATA"
                        reply = "250 Message OK"
            elif cmd == "LOGI":
                parts = arg.decode("latin-1").split(" ", 1)
                who, password = parts[0], (parts[1] if len(parts) > 1 else "")
                if who and self.logins.get(who) == password:
                    login = who
                    reply = "250 Login Accepted"
                else:
                    reply = "550 Error, Invalid Login"
            elif cmd == "SEND":
                if not pagers or message is None:
                    reply = "503 Error, Pager ID or Message Incomplete"
                else:
                    reply = self.send_reply
                    if reply.startswith(("2", "8", "9")):
                        with self._cond:
                            self.pages.append(Page(list(pagers), message, login, via))
                            self._cond.notify_all()
                    pagers, message, via = [], None, ""
            elif cmd == "RESE":
                pagers, message, via = [], None, ""
                reply = "250 RESET OK"
            elif cmd == "HELP":
                for text_line in ("PAGEr MESSage RESEt SEND QUIT HELP", "DATA LOGIn"):
                    conn.say("214 " + text_line)
                reply = "250 End of Help Information"
            elif cmd in ("LEVE", "ALER", "COVE", "HOLD", "CALL", "SUBJ"):
                reply = "250 OK"
            else:
                reply = "500 Command Not Implemented"
            if reply.startswith("5"):
                errors += 1
                if errors >= MAX_ERRORS:
                    conn.say("421 Too Many Errors, Goodbye")
                    return
            conn.say(reply)


class _Conn:
    def __init__(self, sock: socket.socket, session: Session, stop: threading.Event) -> None:
        self.sock = sock
        self.session = session
        self.stop = stop
        self.buf = b""
        sock.settimeout(0.2)  # so a closing server is noticed between reads

    def say(self, line: str) -> None:
        self.sock.sendall(line.encode("ascii") + b"\r\n")

    def _raw_line(self) -> bytes | None:
        while b"\n" not in self.buf:
            if self.stop.is_set():
                return None
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                return None
            self.buf += chunk
        raw, _, self.buf = self.buf.partition(b"\n")
        return raw.rstrip(b"\r")

    def line(self) -> bytes | None:
        raw = self._raw_line()
        if raw is not None:
            self.session.lines.append(raw)
        return raw

    def data(self) -> bytes | None:
        """DATA's lines up to "." (dot-stuffing undone), joined with b"\\n"."""
        lines: list[bytes] = []
        while True:
            raw = self.line()
            if raw is None:
                return None
            self.session.text_lines.add(len(self.session.lines) - 1)
            if raw == b".":
                return b"\n".join(lines)
            lines.append(raw[1:] if raw.startswith(b"..") else raw)

    def stall(self) -> None:
        """Read whatever comes, answer nothing, until the client or the server gives up."""
        while self.line() is not None:
            pass


if __name__ == "__main__":  # a gateway to point `cuckoo sms send` at by hand
    with SnppServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 4444) as srv:
        print(f"SNPP on 127.0.0.1:{srv.port}; Ctrl-C to stop", flush=True)
        seen = 0
        try:
            while True:
                page = srv.wait_page(seen + 1, timeout=3600)
                seen += 1
                print(page.pagers, page.via, page.message, flush=True)
        except KeyboardInterrupt:
            pass
