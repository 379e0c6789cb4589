"""Festival with the festvox-ru voice (msu_ru_nsh_clunits), kept warm.

One `festival --server` per process listens on 127.0.0.1 (a free port unless configured) with
the Russian voice already loaded; each engine holds one connection to it (Festival forks a
child per connection, so a connection is a warm private synthesizer). A phrase is one Scheme
command: `(utt.send.wave.client (utt.synth (eval (list 'Utterance 'Text "…"))))`, answered with
the RIFF bytes. No process is started per phrase.

Encoding: festvox-ru wants UTF-8 (its README says so, and its LTS rules are written in UTF-8;
KOI8-R input makes the letter-to-sound rules fail). It knows Russian and Latin letters, digits,
"+" as a stress mark and the punctuation - ' ? ! . , ; — anything else (":" inside "10:00",
quotes, brackets) aborts the whole utterance, so the text is cleaned first.

The server is started through a tiny shell wrapper that kills it when our stdin pipe closes, so
it never outlives the Python process, even after a crash.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from cuckoo.errors import TtsError
from cuckoo.line.audio import Audio
from cuckoo.speech.tts.base import time_stretch
from cuckoo.speech.tts.espeak import wav_to_audio

log = logging.getLogger(__name__)

DEFAULT_VOICE = "voice_msu_ru_nsh_clunits"
VOICE_DIR = Path("/usr/share/festival/voices/russian/msu_ru_nsh_clunits")
KEY = b"ft_StUfF_key"  # Festival's end-of-data marker; stuffed with "X" when it occurs in data

_BAD = re.compile(r"[^\w\s+\-'?!.,;]|_")
_PAUSE = re.compile(r"\s*[:—–]\s*")


def festival_text(text: str) -> str:
    """Text festvox-ru can read: pauses for ":" and dashes, other symbols dropped, quotes
    escaped for a Scheme string."""
    t = _PAUSE.sub(", ", text)
    t = _BAD.sub(" ", t)
    t = re.sub(r"\s+", " ", t).strip()
    return t.replace("\\", " ").replace('"', " ")


def festival_available() -> str | None:
    """None if Festival with the Russian voice can run here, else why not."""
    if shutil.which("festival") is None:
        return "festival is not installed (apt-get install festival festvox-ru)"
    if not VOICE_DIR.is_dir():
        return f"the Russian voice is missing ({VOICE_DIR}; apt-get install festvox-ru)"
    return None


class FestivalServer:
    """A `festival --server` child on 127.0.0.1 with `voice` loaded.

    With a fixed port that already has a listener (another cuckoo worker process started it),
    the server is shared: this object attaches to it instead of starting a second one."""

    def __init__(self, *, voice: str = DEFAULT_VOICE, port: int = 0, timeout_s: float = 30.0):
        why = festival_available()
        if why:
            raise TtsError(why)
        self.voice = voice
        self.timeout_s = timeout_s
        self.port = port or _free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        if port and _listening(port):
            log.info("festival server already on 127.0.0.1:%d: sharing it", port)
            return
        self._dir = tempfile.TemporaryDirectory(prefix="cuckoo-festival-")
        init = Path(self._dir.name) / "init.scm"
        init.write_text(
            f"(set! server_port {self.port})\n"
            '(set! server_access_list \'("localhost" "127.0.0.1"))\n'
            f"({voice})\n",
            encoding="utf-8",
        )
        # sh exits with festival; a background reader kills festival once our stdin pipe
        # closes (fd 3: a background job's own stdin would be /dev/null).
        wrapper = (
            'exec 3<&0; festival --server "$1" </dev/null 3<&- & pid=$!; '
            "{ read _ <&3; kill $pid 2>/dev/null; } & wait $pid"
        )
        self._proc = subprocess.Popen(
            ["sh", "-c", wrapper, "cuckoo-festival", str(init)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        atexit.register(self.stop)
        self._wait_ready()
        log.info("festival server on 127.0.0.1:%d with %s", self.port, voice)

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise TtsError(f"festival server exited at start (code {self._proc.returncode})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TtsError(f"festival server did not listen on port {self.port} in {self.timeout_s}s")

    def alive(self) -> bool:
        if self._proc is None:
            return _listening(self.port)
        return self._proc.poll() is None

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout_s)

    def stop(self) -> None:
        if self._proc is None:
            return  # attached to someone else's server
        if self._proc.poll() is None:
            with contextlib.suppress(OSError):
                assert self._proc.stdin is not None
                self._proc.stdin.close()  # the wrapper kills festival
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        with contextlib.suppress(OSError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()  # let the wrapper's reader go
        self._dir.cleanup()


_servers: dict[tuple[str, int], FestivalServer] = {}
_servers_lock = threading.Lock()


def shared_server(
    voice: str = DEFAULT_VOICE, port: int = 0, timeout_s: float = 30.0
) -> FestivalServer:
    """One warm server per (voice, port) per process; restarted if it died."""
    with _servers_lock:
        srv = _servers.get((voice, port))
        if srv is None or not srv.alive():
            srv = FestivalServer(voice=voice, port=port, timeout_s=timeout_s)
            _servers[(voice, port)] = srv
        return srv


class _Connection:
    """One client connection = one forked, warm Festival child. Not thread-safe by itself."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def command(self, expr: str) -> bytes | None:
        """Send one expression; read replies until OK/ER; return the last waveform, if any."""
        return self.exchange(expr)[0]

    def exchange(self, expr: str) -> tuple[bytes | None, bytes]:
        """(last waveform or None, last Lisp value printed) of one expression."""
        self.sock.sendall(expr.encode("utf-8") + b"\n")
        wave_data: bytes | None = None
        lisp = b""
        while True:
            tag = self._read_exact(3)
            if tag == b"OK\n":
                return wave_data, lisp
            if tag == b"ER\n":
                raise TtsError(f"festival rejected the command: {expr[:120]}")
            if tag in (b"WV\n", b"LP\n"):
                body = self._read_stuffed()
                if tag == b"WV\n":
                    wave_data = body
                else:
                    lisp = body
            else:
                raise TtsError(f"festival protocol error: unexpected {tag!r}")

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise TtsError("festival closed the connection")
        self.buf += chunk

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_stuffed(self) -> bytes:
        """Data up to KEY; a KEY followed by "X" is data (Festival's byte stuffing)."""
        out = bytearray()
        start = 0
        while True:
            i = self.buf.find(KEY, start)
            if i < 0 or i + len(KEY) >= len(self.buf):
                # Need more bytes (to find the key, or the byte after it).
                start = max(0, len(self.buf) - len(KEY))
                self._fill()
                continue
            if self.buf[i + len(KEY)] == ord("X"):
                out += self.buf[: i + len(KEY)]
                self.buf = self.buf[i + len(KEY) + 1 :]
                start = 0
                continue
            out += self.buf[:i]
            self.buf = self.buf[i + len(KEY) :]
            return bytes(out)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class FestivalEngine:
    """Thread-safe: each concurrent phrase takes an idle connection (opening one if none is
    idle), so calls in several threads synthesize in parallel in separate Festival children."""

    name = "festival"
    native_rate = 16000  # the msu_ru_nsh recordings

    def __init__(
        self,
        *,
        voice: str = DEFAULT_VOICE,
        tempo: float = 1.0,
        port: int = 0,
        timeout_s: float = 30.0,
        server: FestivalServer | None = None,
    ) -> None:
        self._voice, self._port, self._timeout = voice, port, timeout_s
        self._server = server or shared_server(voice, port, timeout_s)
        # The clunits voice concatenates recorded units and ignores Duration_Stretch, so the
        # tempo is applied afterwards with sox's WSOLA `tempo` effect (pitch unchanged).
        self._tempo = tempo
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []
        self._closed = False
        self._pid = os.getpid()

    def render(self, text: str, *, rate: int) -> Audio:
        clean = festival_text(text)
        if not re.search(r"\w", clean):
            return Audio(b"", rate)
        cmd = f"(utt.send.wave.client (utt.synth (eval (list 'Utterance 'Text \"{clean}\"))))"
        try:
            wav = self._run(cmd)
        except (OSError, TtsError) as first:
            # The child may have died (or the server was restarted): one fresh try.
            log.warning("festival connection failed (%s); reconnecting", first)
            if not self._server.alive():
                self._server = shared_server(self._voice, self._port, self._timeout)
            wav = self._run(cmd)
        if wav is None:
            raise TtsError(f"festival returned no audio for {clean[:60]!r}")
        audio = wav_to_audio(wav, "festival")
        return time_stretch(audio, self._tempo) if self._tempo != 1.0 else audio

    def phones(self, text: str) -> list[str]:
        """The phone sequence Festival makes of `text` ("pau" for pauses): how a lexicon
        author checks a pronunciation without listening."""
        clean = festival_text(text)
        expr = (
            "(mapcar (lambda (s) (item.name s)) (utt.relation.items "
            f"(utt.synth (eval (list 'Utterance 'Text \"{clean}\"))) 'Segment))"
        )
        _, lisp = self._run_exchange(expr)
        return re.findall(r'"([^"]*)"', lisp.decode("utf-8", "replace"))

    def _run(self, cmd: str) -> bytes | None:
        return self._run_exchange(cmd)[0]

    def _run_exchange(self, cmd: str) -> tuple[bytes | None, bytes]:
        with self._lock:
            if self._pid != os.getpid():
                # Forked: the inherited sockets belong to the parent; never share them.
                self._idle, self._pid = [], os.getpid()
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = _Connection(self._server.connect())
        try:
            result = conn.exchange(cmd)
        except BaseException:
            conn.close()  # a broken or half-read connection is never reused
            raise
        with self._lock:
            if self._closed:
                conn.close()
            else:
                self._idle.append(conn)
        return result

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
