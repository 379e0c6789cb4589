"""The pjsua2 engine: one thread per process owns the Endpoint and every pjsua2 object.

Facts about the pjsua2-python 2.15.1 wheel this module is built around (issue 4):
- one Endpoint per process, at most 4 calls per process;
- a Python thread that was never registered with pjlib and touches pjsua2 aborts the process,
  so only the owner thread calls pjsua2; other threads send it commands (`Engine.submit`);
- an unreferenced Call is hung up at once; a stale Call deleted after its id was reused hangs
  up the new call: Call objects are kept until DISCONNECTED and dropped right after the poll
  that reported it (pjsua hands out call ids round robin, so the id is not reused yet);
- deleting AudioMediaPort subclasses while the library runs may segfault: one port per call
  slot is created at start and reused; they are dropped only after the media clock stopped;
- `bytes(frame.buf)` is slow (~290 us per frame): frames are read through ctypes (~2 us).

Media callbacks (`onFrameRequested`/`onFrameReceived`) run on pjmedia's clock thread, which is
a pjlib thread; they only touch the frame and Python-side buffers, never other pjsua2 objects.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import functools
import logging
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cuckoo.errors import EngineError, TooManyCalls

try:
    import pjsua2 as pj
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "cuckoo telephony needs pjsua2: pip install 'pjsua2-python==2.15.1.post1'"
    ) from e

log = logging.getLogger(__name__)

FRAME_SAMPLES = 160  # 20 ms at 8 kHz
FRAME_BYTES = FRAME_SAMPLES * 2
SILENCE = bytes(FRAME_BYTES)
MAX_CALLS_PER_PROCESS = 4  # compiled into the wheel (PJSUA_MAX_CALLS)

_Q850_RE = re.compile(r"^Reason:\s*Q\.850\s*;(?:[^\r\n]*?;)?\s*cause\s*=\s*(\d+)", re.I | re.M)


def parse_q850(sip_message: str) -> int | None:
    """Q.850 cause from a Reason header (RFC 3326) in a raw SIP message, if any."""
    m = _Q850_RE.search(sip_message)
    return int(m.group(1)) if m else None


@contextlib.contextmanager
def _quiet_stdout(keep: bool) -> Iterator[None]:
    """pjlib logs its start-up to stdout before libInit applies our log level: send that to
    stderr when pjsip logging is wanted, else nowhere (stdout may carry `--json`)."""
    sys.stdout.flush()
    saved = os.dup(1)
    target = os.dup(2) if keep else os.open(os.devnull, os.O_WRONLY)
    os.dup2(target, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(target)


def _vector_data(vec: Any) -> int:
    """Address of the first element of a SWIG std::vector<unsigned char> (libstdc++ layout:
    begin, end, end_of_storage)."""
    return ctypes.c_void_p.from_address(int(vec.this)).value or 0


@dataclass
class TrunkAccount:
    """What one of the engine's accounts (a trunk) needs: identity, registration,
    credentials, proxy."""

    id_uri: str = ""  # e.g. "sip:robot@127.0.0.1"; empty: derived from the transport
    registrar: str = ""  # e.g. "sip:pbx.example.com"; empty: no REGISTER (IP auth / direct)
    username: str = ""
    password: str = ""
    realm: str = "*"
    proxy: str = ""  # outbound proxy URI, e.g. "sip:10.0.0.1;lr"
    register_timeout_s: int = 300


@dataclass
class EngineConfig:
    bind_host: str = "127.0.0.1"
    sip_port: int = 0  # 0: any free port
    transport: str = "udp"  # udp | tcp | tls
    max_calls: int = MAX_CALLS_PER_PROCESS
    codecs: list[str] = field(default_factory=lambda: ["PCMA/8000", "PCMU/8000", "G722/16000"])
    rtp_port: int = 0  # 0: let pjsua pick
    rtp_port_range: int = 0
    account: TrunkAccount = field(default_factory=TrunkAccount)
    # Trunks beyond `account`, by name (`dial(trunk=NAME)`): one pjsua account each, with its
    # own registration, credentials and proxy.
    trunks: dict[str, TrunkAccount] = field(default_factory=dict)
    user_agent: str = "cuckoo"
    log_level: int = 0  # pjsip's own log to the console (0: off, 5: everything)
    rtp_timeout_s: float = 10.0  # no RTP for this long on an answered call: hang up
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""


class Player:
    """What a call sends: PCM queued from Python, pulled 20 ms at a time by the media clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buf = b""
        self._pos = 0
        self._gen = 0
        self.done = threading.Event()
        self.done.set()
        self.first_frame_at: float | None = None  # monotonic time the current audio started
        self.frames_sent = 0

    def load(self, pcm: bytes) -> int:
        with self._lock:
            self._buf = pcm
            self._pos = 0
            self._gen += 1
            self.first_frame_at = None
            if pcm:
                self.done.clear()
            else:
                self.done.set()
            return self._gen

    def append(self, pcm: bytes, gen: int) -> bool:
        """Add `pcm` after what `load` returned `gen` for (speech streamed while it plays).
        False, and nothing added, once that audio was stopped or replaced: a late sentence
        never restarts a prompt that a barge-in cut."""
        with self._lock:
            if gen != self._gen:
                return False
            if not pcm:
                return True
            # The queue ran dry mid-frame (sent padded with silence): the new audio starts
            # with the next frame, not part-way into it.
            self._pos = min(self._pos, len(self._buf))
            self._buf += pcm
            self.done.clear()
            return True

    def stop(self) -> None:
        with self._lock:
            self._buf = b""
            self._pos = 0
            self._gen += 1  # what was playing is over: append() to it is refused
            self.done.set()

    @property
    def generation(self) -> int:
        """What `load` returned for the audio queued now."""
        with self._lock:
            return self._gen

    @property
    def playing(self) -> bool:
        return not self.done.is_set()

    def next_frame(self) -> bytes:
        with self._lock:
            if self._pos >= len(self._buf):
                return SILENCE
            if self._pos == 0:
                self.first_frame_at = time.monotonic()
            chunk = self._buf[self._pos : self._pos + FRAME_BYTES]
            self._pos += FRAME_BYTES
            self.frames_sent += 1
            if self._pos >= len(self._buf):
                self.done.set()
        if len(chunk) < FRAME_BYTES:
            chunk += bytes(FRAME_BYTES - len(chunk))
        return chunk


class CallHandle:
    """One call as the rest of cuckoo sees it. Thread-safe; pjsua2 work goes through the engine.

    Events (queue `events`): ("state", name), ("media", None), ("dtmf", (digit, method)),
    ("disconnected", None). Received audio frames land in `rx` (8 kHz int16, 20 ms each).
    """

    def __init__(self, engine: Engine, *, outgoing: bool, remote_uri: str = "") -> None:
        self.engine = engine
        self.outgoing = outgoing
        self.remote_uri = remote_uri
        self.local_uri = ""  # To URI of an incoming call
        self.call_id = -1
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.rx: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.player = Player()
        self.state = "NULL"
        self.sip_code: int | None = None  # last final (or provisional) status code seen
        self.reason = ""
        self.q850: int | None = None
        self.provisional = False  # some 1xx (other than 100) or final response arrived
        self.any_response = False
        self.created_at = time.monotonic()
        self.answered_at: float | None = None  # monotonic, 200 OK
        self.media_at: float | None = None
        self.ended_at: float | None = None
        self.confirmed = threading.Event()
        self.media_ready = threading.Event()
        self.disconnected = threading.Event()
        self.hangup_cause = ""  # why *we* hung up (ring timeout, rtp timeout, max duration)
        self.remote_hangup = False
        self.codec = ""  # negotiated audio codec, e.g. "PCMA/8000"
        self.rx_frames = 0
        self.last_rx_pkt = 0
        self.last_rx_change = time.monotonic()
        self.record_tx: list[bytes] | None = None  # both directions, frame by frame, if recording
        self.record_rx: list[bytes] | None = None
        self.tap: Callable[[bytes], None] | None = None  # extra consumer of rx frames
        self.tx_tap: Callable[[bytes], None] | None = (
            None  # sees every frame we send (AMD's echo gate)
        )
        self.queue_rx = True  # False: nobody reads `rx` (the sim-phone uses `tap` only)
        # Early media (a 183 with SDP on a call we placed): its frames go here and nowhere else
        # (not `rx`, not the recording) until the answer; cuckoo.telephony.early judges them.
        self.early_tap: Callable[[bytes], None] | None = None
        # blind transfer we asked for (REFER): NOTIFY status codes, set when the last came
        self.xfer_codes: list[int] = []
        self.xfer_reason = ""
        self.xfer_final = threading.Event()
        # NOTIFYs are taken only while a REFER of ours waits for its outcome: pjsua reports
        # them by call id, with nothing naming the REFER, so a late one (after we gave up on
        # it, or a dead call's, reported on a reused id) must not pass for a new outcome
        self.xfer_pending = False
        self.xfer_abandoned = False  # a REFER we gave up on may still be under way at the peer
        self.transferred_from: CallHandle | None = None  # a call we placed because of a REFER
        # owner-thread-only pjsua2 objects
        self._pjcall: _PjCall | None = None
        self._port: _Port | None = None
        self._aud: Any = None

    # ---- commands (any thread) ---------------------------------------------------------------
    def hangup(self, code: int = 0, cause: str = "local") -> None:
        if not self.hangup_cause:
            self.hangup_cause = cause
        if self.disconnected.is_set():
            return
        self.engine.submit(lambda: self.engine._hangup(self, code))

    def answer(self, code: int = 200) -> None:
        self.engine.submit(lambda: self.engine._answer(self, code))

    def send_dtmf(self, digits: str, method: str = "rfc2833") -> None:
        self.engine.submit(lambda: self.engine._send_dtmf(self, digits, method))

    def transfer(self, dest_uri: str) -> Future[Any]:
        """Blind transfer (REFER) of the peer to `dest_uri`. The future fails if pjsua2 refuses
        to send it; progress lands in `xfer_codes`, `xfer_final` is set by the last NOTIFY
        (or the REFER's rejection). Refused after `abandon_transfer`: the earlier REFER may
        still move the customer, and its NOTIFYs could not be told from the new one's."""
        if self.xfer_abandoned:
            done: Future[Any] = Future()
            done.set_exception(EngineError("an earlier REFER on this call was abandoned"))
            return done
        self.xfer_codes = []
        self.xfer_reason = ""
        self.xfer_final.clear()
        self.xfer_pending = True
        return self.engine.submit(lambda: self.engine._transfer(self, dest_uri))

    def abandon_transfer(self) -> None:
        """Give up on the REFER in progress (no final NOTIFY in time). pjsua2 has no way to end
        the REFER's subscription from our side (pjsua_call_xfer keeps no handle to it; only a
        NOTIFY's callback can detach it, `cont = False`): so from now on every NOTIFY for this
        call is dropped and detaches that subscription, and no later REFER is sent."""
        self.xfer_pending = False
        self.xfer_abandoned = True

    def start_recording(self) -> None:
        self.record_tx = []
        self.record_rx = []

    # ---- called by the port on the media clock thread -----------------------------------------
    def _tx_frame(self) -> bytes:
        if self.outgoing and self.answered_at is None:
            return SILENCE  # early media: the greeting waits for the answer
        frame = self.player.next_frame()
        if self.record_tx is not None:
            self.record_tx.append(frame)
        tx_tap = self.tx_tap
        if tx_tap is not None:
            tx_tap(frame)
        return frame

    def _rx_frame(self, pcm: bytes) -> None:
        if self.outgoing and self.answered_at is None:
            early = self.early_tap
            if early is not None:
                early(pcm)
            return
        self.rx_frames += 1
        if self.queue_rx:
            self.rx.put(pcm)
        if self.record_rx is not None:
            self.record_rx.append(pcm)
        tap = self.tap
        if tap is not None:
            tap(pcm)

    def _event(self, kind: str, data: Any = None) -> None:
        self.events.put((kind, data))
        if kind in ("dtmf", "disconnected"):
            self.rx.put(b"")  # wake a line waiting for audio at once


F = TypeVar("F", bound=Callable[..., None])


def _guarded(fn: F) -> F:
    """pjsua2 callbacks: a Python exception escaping into pjsua2 (a SWIG director) aborts the
    whole process, so log it and carry on."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("error in pjsua2 callback %s", fn.__name__)

    return wrapper  # type: ignore[return-value]


class _Port(pj.AudioMediaPort):
    """One per call slot, created at start and reused (see module doc)."""

    def __init__(self) -> None:
        super().__init__()
        self.handle: CallHandle | None = None
        self._out = pj.ByteVector(FRAME_BYTES)
        self._out_addr = _vector_data(self._out)

    @_guarded
    def onFrameRequested(self, frame: Any) -> None:
        h = self.handle
        data = h._tx_frame() if h is not None else SILENCE
        ctypes.memmove(self._out_addr, data, FRAME_BYTES)
        frame.buf = self._out
        frame.size = FRAME_BYTES
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO

    @_guarded
    def onFrameReceived(self, frame: Any) -> None:
        h = self.handle
        if h is None or frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO:
            return
        size = frame.size
        if size <= 0:
            return
        addr = _vector_data(frame.buf)
        h._rx_frame(ctypes.string_at(addr, size))


class _PjCall(pj.Call):
    def __init__(self, engine: Engine, acc: Any, handle: CallHandle, call_id: int = -1) -> None:
        if call_id >= 0:
            super().__init__(acc, call_id)
        else:
            super().__init__(acc)
        self.engine = engine
        self.handle = handle

    @_guarded
    def onCallState(self, prm: Any) -> None:
        self.engine._on_call_state(self, prm)

    @_guarded
    def onCallMediaState(self, prm: Any) -> None:
        self.engine._on_media_state(self)

    @_guarded
    def onDtmfDigit(self, prm: Any) -> None:
        method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc2833"
        self.handle._event("dtmf", (str(prm.digit), method, time.monotonic()))

    @_guarded
    def onCallTsxState(self, prm: Any) -> None:
        self.engine._on_tsx(self, prm)

    @_guarded
    def onCallTransferStatus(self, prm: Any) -> None:
        h = self.handle
        if not h.xfer_pending:
            # a late NOTIFY (see CallHandle.xfer_pending): pjsua stops reporting this
            # subscription to us; it ends at the peer's final NOTIFY or its expiry
            prm.cont = False
            log.info(
                "call %s: NOTIFY %s %s after the transfer was given up: ignored",
                h.call_id,
                prm.statusCode,
                prm.reason,
            )
            return
        h.xfer_codes.append(int(prm.statusCode))
        h.xfer_reason = str(prm.reason)
        if prm.finalNotify:
            h.xfer_pending = False
            h.xfer_final.set()

    @_guarded
    def onCallTransferRequest(self, prm: Any) -> None:
        self.engine._on_transfer_request(self, prm)


class _Account(pj.Account):
    def __init__(self, engine: Engine, name: str = "") -> None:
        super().__init__()
        self.engine = engine
        self.name = name  # "" the default account, else the trunk's name
        self.reg_code: int | None = None
        self.reg_event = threading.Event()

    @_guarded
    def onIncomingCall(self, prm: Any) -> None:
        self.engine._on_incoming(self, prm)

    @_guarded
    def onRegState(self, prm: Any) -> None:
        self.reg_code = int(prm.code)
        self.reg_event.set()
        if self.engine.on_registration is not None:
            self.engine.on_registration(self.name, self.reg_code)


class Engine:
    """Owns pjsua2 in one thread. `start()`, then `dial()` / incoming calls, then `stop()`."""

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        on_incoming: Callable[[CallHandle], None] | None = None,
        on_transferred: Callable[[CallHandle], None] | None = None,
        on_registration: Callable[[str, int], None] | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        # (trunk name, SIP code) of every REGISTER answer, on the owner thread: do not block
        self.on_registration = on_registration
        self.on_incoming = on_incoming
        # A peer's REFER: None refuses it (603: the robot is never transferred away); else the
        # transfer is accepted and the new outgoing call's handle is passed here (owner thread,
        # before its INVITE goes out: do not block).
        self.on_transferred = on_transferred
        self._xfer_calls: list[_PjCall] = []  # transfer calls pjsua has not given an id yet
        self._cmds: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any] | None]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._start_error: BaseException | None = None
        self.local_port = 0
        self._calls: dict[int, _PjCall] = {}  # live calls by pjsua call id
        self._dead: list[_PjCall] = []  # disconnected, dropped after the current poll
        self._ports: list[_Port] = []
        self._ep: Any = None
        self._acc: _Account | None = None
        self._trunk_accs: dict[str, _Account] = {}

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> Engine:
        self._thread = threading.Thread(target=self._run, name="pjsua2-owner", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise EngineError("pjsua2 engine did not start in time")
        if self._start_error is not None:
            raise EngineError(f"pjsua2 engine failed to start: {self._start_error}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Hang up every call, wait for them to end, destroy pjsua2 in order."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        fut: Future[Any] = Future()
        if self._thread is None or not self._thread.is_alive():
            fut.set_exception(EngineError("engine is not running"))
            return fut
        # The command runs on the engine thread with the caller's context: its log lines
        # name the caller's notification (cuckoo.logs).
        ctx = contextvars.copy_context()
        self._cmds.put((lambda: ctx.run(fn), fut))
        return fut

    def run(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        return self.submit(fn).result(timeout)

    def wait_registered(self, timeout: float = 10.0, trunk: str = "") -> int | None:
        """Status code of the first REGISTER answer (200 = registered), None if no answer."""
        acc = self._trunk_accs.get(trunk) if trunk else self._acc
        if acc is None:
            return None
        acc.reg_event.wait(timeout)
        return acc.reg_code

    def dial(
        self, uri: str, *, preload: bytes | None = None, trunk: str = "", from_uri: str = ""
    ) -> CallHandle:
        """Start an outgoing call (INVITE). Raises TooManyCalls / EngineError.
        `preload`: audio that starts with the very first media frame after the answer.
        `trunk`: the account of `EngineConfig.trunks` to call through ("" the default one);
        `from_uri`: the From the customer sees ("" the account's)."""
        if trunk and trunk not in self.config.trunks:
            raise EngineError(f"no trunk named {trunk!r} in this engine")
        handle = CallHandle(self, outgoing=True, remote_uri=uri)
        if preload:
            # Frames are pulled only once the port is connected to the call's media.
            handle.player.load(preload)
        self.run(lambda: self._make_call(handle, trunk, from_uri))
        return handle

    # ---- owner thread ------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._init()
        except BaseException as e:
            self._start_error = e
            self._ready.set()
            self._destroy()
            return
        self._ready.set()
        next_watch = time.monotonic() + 1.0
        ep = self._ep
        while not self._stopping.is_set():
            try:
                ep.libHandleEvents(10)
                if self._dead:
                    self._drop_dead()
                self._run_commands()
                now = time.monotonic()
                if now >= next_watch:
                    next_watch = now + 1.0
                    self._watchdog(now)
            except Exception:  # the owner thread must live on: every call depends on it
                log.exception("pjsua2 engine loop")
                time.sleep(0.01)
        self._shutdown()

    def _run_commands(self) -> None:
        while True:
            try:
                fn, fut = self._cmds.get_nowait()
            except queue.Empty:
                return
            try:
                result = fn()
            except BaseException as e:
                if fut is not None:
                    fut.set_exception(e)
            else:
                if fut is not None:
                    fut.set_result(result)

    def _init(self) -> None:
        cfg = self.config
        ep = pj.Endpoint()
        self._ep = ep
        with _quiet_stdout(keep=cfg.log_level > 0):
            ep.libCreate()
        ep_cfg = pj.EpConfig()
        ep_cfg.uaConfig.threadCnt = 0  # we poll libHandleEvents ourselves
        ep_cfg.uaConfig.mainThreadOnly = False
        ep_cfg.uaConfig.maxCalls = min(cfg.max_calls, MAX_CALLS_PER_PROCESS)
        ep_cfg.uaConfig.userAgent = cfg.user_agent
        ep_cfg.logConfig.level = cfg.log_level
        ep_cfg.logConfig.consoleLevel = cfg.log_level
        ep_cfg.logConfig.msgLogging = cfg.log_level >= 4
        ep_cfg.medConfig.clockRate = 8000  # telephony rate end to end: no resampling
        ep_cfg.medConfig.sndClockRate = 8000
        ep_cfg.medConfig.channelCount = 1
        ep_cfg.medConfig.ecTailLen = 0  # no echo canceller: there is no loudspeaker
        ep_cfg.medConfig.noVad = True  # keep RTP flowing: the peer's watchdog relies on it
        ep.libInit(ep_cfg)

        tcfg = pj.TransportConfig()
        tcfg.port = cfg.sip_port
        if cfg.bind_host not in ("", "0.0.0.0"):
            tcfg.boundAddress = cfg.bind_host
        kind = {
            "udp": pj.PJSIP_TRANSPORT_UDP,
            "tcp": pj.PJSIP_TRANSPORT_TCP,
            "tls": pj.PJSIP_TRANSPORT_TLS,
        }[cfg.transport]
        if cfg.transport == "tls":
            tcfg.tlsConfig.CaListFile = cfg.tls_ca_file
            tcfg.tlsConfig.certFile = cfg.tls_cert_file
            tcfg.tlsConfig.privKeyFile = cfg.tls_key_file
        tid = ep.transportCreate(kind, tcfg)
        ep.libStart()
        ep.audDevManager().setNullDev()
        local_name = ep.transportGetInfo(tid).localName  # "host:port" as others reach us
        self.local_port = int(local_name.rsplit(":", 1)[1])

        wanted = {c.lower(): i for i, c in enumerate(cfg.codecs)}
        for info in ep.codecEnum2():
            cid = info.codecId  # e.g. "PCMA/8000/1"
            key = "/".join(cid.split("/")[:2]).lower()
            prio = 255 - wanted[key] if key in wanted else 0
            ep.codecSetPriority(cid, prio)

        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_L16, 8000, 1, 20000, 16)
        for i in range(ep_cfg.uaConfig.maxCalls):
            port = _Port()
            port.createPort(f"line{i}", fmt)
            self._ports.append(port)

        self._acc = self._create_account("", cfg.account, tid, local_name)
        for name, account in cfg.trunks.items():
            self._trunk_accs[name] = self._create_account(name, account, tid, local_name)

    def _create_account(self, name: str, a: TrunkAccount, tid: int, local_name: str) -> _Account:
        cfg = self.config
        acc_cfg = pj.AccountConfig()
        scheme = "sips" if cfg.transport == "tls" else "sip"
        tparam = "" if cfg.transport == "udp" else f";transport={cfg.transport}"
        acc_cfg.idUri = a.id_uri or f"{scheme}:cuckoo@{local_name}{tparam}"
        if a.registrar:
            acc_cfg.regConfig.registrarUri = a.registrar
            acc_cfg.regConfig.timeoutSec = a.register_timeout_s
        else:
            acc_cfg.regConfig.registrarUri = ""
        if a.username:
            acc_cfg.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", a.realm or "*", a.username, 0, a.password)
            )
        if a.proxy:
            acc_cfg.sipConfig.proxies.append(a.proxy)
        acc_cfg.sipConfig.transportId = tid
        if cfg.rtp_port:
            acc_cfg.mediaConfig.transportConfig.port = cfg.rtp_port
            acc_cfg.mediaConfig.transportConfig.portRange = cfg.rtp_port_range
        if cfg.bind_host not in ("", "0.0.0.0"):
            acc_cfg.mediaConfig.transportConfig.boundAddress = cfg.bind_host
        # No re-INVITE after answer to lock one codec: we offer few codecs and every re-INVITE
        # is a chance for an interop glitch at the moment the greeting starts.
        acc_cfg.mediaConfig.lockCodecEnabled = False
        acc = _Account(self, name)
        acc.create(acc_cfg, not name)  # the first account is pjsua's default
        return acc

    def _make_call(self, handle: CallHandle, trunk: str = "", from_uri: str = "") -> None:
        if len(self._calls) >= len(self._ports):
            raise TooManyCalls(f"this process already has {len(self._calls)} calls")
        call = _PjCall(self, self._trunk_accs[trunk] if trunk else self._acc, handle)
        prm = pj.CallOpParam(True)
        if from_uri:
            prm.txOption.localUri = from_uri
        call.makeCall(handle.remote_uri, prm)  # raises pj.Error on a bad URI / no route
        handle._pjcall = call
        handle.call_id = call.getId()
        self._calls[handle.call_id] = call

    def _on_incoming(self, acc: Any, prm: Any) -> None:
        handle = CallHandle(self, outgoing=False)
        call = _PjCall(self, acc, handle, prm.callId)
        handle._pjcall = call
        handle.call_id = prm.callId
        info = call.getInfo()
        handle.remote_uri = info.remoteUri
        handle.local_uri = info.localUri
        self._calls[handle.call_id] = call
        if len(self._calls) > len(self._ports) or self.on_incoming is None:
            call.hangup(pj.CallOpParam(486 if self.on_incoming else 603))
            return
        self.on_incoming(handle)

    def _on_tsx(self, call: _PjCall, prm: Any) -> None:
        # Note answers to our INVITE and a Reason header (Q.850) in any message.
        h = call.handle
        try:
            e = prm.e
            if e.type != pj.PJSIP_EVENT_TSX_STATE:
                return
            ts = e.body.tsxState
            if ts.type != pj.PJSIP_EVENT_RX_MSG:
                return
            msg = ts.src.rdata.wholeMsg
        except Exception:
            return
        if msg.startswith("SIP/2.0 "):
            h.any_response = True
            code = int(msg[8:11])
            if code > 100:
                h.provisional = True
        q = parse_q850(msg)
        if q is not None:
            h.q850 = q

    def _on_transfer_request(self, call: _PjCall, prm: Any) -> None:
        if self.on_transferred is None or len(self._calls) >= len(self._ports):
            prm.statusCode = 603 if self.on_transferred is None else 486
            return
        handle = CallHandle(self, outgoing=True, remote_uri=str(prm.dstUri))
        handle.transferred_from = call.handle
        new = _PjCall(self, self._acc, handle)
        handle._pjcall = new
        self._xfer_calls.append(new)  # pjsua places the INVITE; its id comes with a state
        prm.newCall = new
        self.on_transferred(handle)

    def _transfer(self, h: CallHandle, dest_uri: str) -> None:
        call = h._pjcall
        if call is None or h.disconnected.is_set():
            raise EngineError("the call is over")
        call.xfer(dest_uri, pj.CallOpParam(True))

    def _on_call_state(self, call: _PjCall, prm: Any) -> None:
        h = call.handle
        if h.call_id < 0 and any(c is call for c in self._xfer_calls):
            self._xfer_calls = [c for c in self._xfer_calls if c is not call]
            h.call_id = call.getId()
            self._calls[h.call_id] = call
        info = call.getInfo()
        state = info.state
        h.state = info.stateText
        if info.lastStatusCode:
            h.sip_code = int(info.lastStatusCode)
            h.reason = info.lastReason
        try:
            e = prm.e
            if e.type == pj.PJSIP_EVENT_TSX_STATE and e.body.tsxState.type == pj.PJSIP_EVENT_RX_MSG:
                msg = e.body.tsxState.src.rdata.wholeMsg
                q = parse_q850(msg)
                if q is not None:
                    h.q850 = q
                if state == pj.PJSIP_INV_STATE_DISCONNECTED and msg.startswith("BYE "):
                    h.remote_hangup = True
                if msg.startswith("SIP/2.0 "):
                    h.any_response = True
                    if int(msg[8:11]) > 100:
                        h.provisional = True
        except Exception:
            pass
        if state == pj.PJSIP_INV_STATE_CONFIRMED:
            first = h.answered_at is None
            h.answered_at = h.answered_at or time.monotonic()
            h.last_rx_change = time.monotonic()
            if first and h.outgoing:
                self._connect_media(call)  # the media came with the 200 OK, before this
            h.confirmed.set()
        h._event("state", h.state)
        if state == pj.PJSIP_INV_STATE_DISCONNECTED:
            if h.answered_at is not None and not h.hangup_cause:
                h.remote_hangup = True
            self._release(h)
            h.ended_at = time.monotonic()
            self._calls.pop(h.call_id, None)
            self._dead.append(call)
            h.disconnected.set()
            h._event("disconnected", None)

    def _on_media_state(self, call: _PjCall) -> None:
        # Early media (183 with SDP) is connected too, so that its frames reach `early_tap`;
        # CallHandle sends silence and queues nothing until CONFIRMED.
        self._connect_media(call)

    def _connect_media(self, call: _PjCall) -> None:
        h = call.handle
        info = call.getInfo()
        for i, mi in enumerate(info.media):
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                if h._port is None:
                    port = self._free_port()
                    if port is None:
                        log.error("no free media port for call %s", h.call_id)
                        return
                    port.handle = h
                    h._port = port
                aud = call.getAudioMedia(i)
                h._aud = aud
                with contextlib.suppress(Exception):
                    si = call.getStreamInfo(i)
                    h.codec = f"{si.codecName}/{si.codecClockRate}"
                h._port.startTransmit(aud)
                aud.startTransmit(h._port)
                h.media_at = h.media_at or time.monotonic()
                h.media_ready.set()
                h._event("media", None)
                return

    def _free_port(self) -> _Port | None:
        for p in self._ports:
            if p.handle is None:
                return p
        return None

    def _release(self, h: CallHandle) -> None:
        port = h._port
        if port is not None:
            aud = h._aud
            if aud is not None:
                try:
                    port.stopTransmit(aud)
                    aud.stopTransmit(port)
                except Exception:
                    pass
            port.handle = None
        h._port = None
        h._aud = None
        h.player.stop()

    def _drop_dead(self) -> None:
        dead, self._dead = self._dead, []
        for call in dead:
            call.handle._pjcall = None
        del dead

    def _hangup(self, h: CallHandle, code: int) -> None:
        call = h._pjcall
        if call is None or h.disconnected.is_set():
            return
        prm = pj.CallOpParam(True)
        if code:
            prm.statusCode = code
        call.hangup(prm)

    def _answer(self, h: CallHandle, code: int) -> None:
        call = h._pjcall
        if call is None or h.disconnected.is_set():
            return
        prm = pj.CallOpParam(True)
        prm.statusCode = code
        if code < 300:
            call.answer(prm)
        else:
            call.hangup(prm)

    def _send_dtmf(self, h: CallHandle, digits: str, method: str) -> None:
        call = h._pjcall
        if call is None or h.disconnected.is_set():
            return
        prm = pj.CallSendDtmfParam()
        prm.digits = digits
        prm.method = (
            pj.PJSUA_DTMF_METHOD_SIP_INFO if method == "info" else pj.PJSUA_DTMF_METHOD_RFC2833
        )
        call.sendDtmf(prm)

    def _watchdog(self, now: float) -> None:
        """RTP inactivity: a peer that vanished without BYE stops sending RTP."""
        limit = self.config.rtp_timeout_s
        for call in list(self._calls.values()):
            h = call.handle
            if h.answered_at is None or h.disconnected.is_set() or limit <= 0:
                continue
            try:
                pkt = int(call.getStreamStat(0).rtcp.rxStat.pkt)
            except Exception:
                continue
            if pkt != h.last_rx_pkt:
                h.last_rx_pkt = pkt
                h.last_rx_change = now
            elif now - h.last_rx_change > limit:
                log.warning("call %s: no RTP for %.0f s, hanging up", h.call_id, limit)
                h.hangup_cause = h.hangup_cause or "rtp_timeout"
                self._hangup(h, 0)

    def _shutdown(self) -> None:
        self._run_commands()
        ep = self._ep
        for h in [call.handle for call in self._calls.values()]:
            h.hangup_cause = h.hangup_cause or "shutdown"
        with contextlib.suppress(Exception):
            ep.hangupAllCalls()
        deadline = time.monotonic() + 3.0
        while self._calls and time.monotonic() < deadline:
            ep.libHandleEvents(10)
        self._drop_dead()
        leftover = list(self._calls.values())
        self._calls.clear()
        while leftover:
            c = leftover.pop()
            # Still not over (e.g. an INVITE nobody answered: pjsip waits for Timer B).
            # Deleting it would hang up from the C++ destructor, which throws -> abort;
            # hand it to C++ instead, libDestroy ends the call.
            h = c.handle
            self._release(h)
            h._pjcall = None
            h.disconnected.set()
            c.__disown__()
            del c
        self._destroy()

    def _destroy(self) -> None:
        ep = self._ep
        if ep is None:
            return
        with contextlib.suppress(Exception):
            # Stop the media clock before the ports go, so no callback runs into a dead port.
            ep.audDevManager().setNoDev()
        time.sleep(0.05)
        while self._ports:  # no loop variable may keep a port alive past libDestroy
            self._ports.pop().handle = None
        while self._trunk_accs:
            _, acc = self._trunk_accs.popitem()
            with contextlib.suppress(Exception):
                acc.shutdown()
        if self._acc is not None:
            with contextlib.suppress(Exception):
                self._acc.shutdown()
            self._acc = None
        with contextlib.suppress(Exception):
            ep.libDestroy()
        self._xfer_calls.clear()  # transfer calls that never started
        self._ep = None
        del ep
        # Fail whatever is still queued.
        while True:
            try:
                _, fut = self._cmds.get_nowait()
            except queue.Empty:
                break
            if fut is not None and not fut.done():
                fut.set_exception(EngineError("engine stopped"))
