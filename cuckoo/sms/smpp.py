"""SMPP 3.4 gateway over smpplib's PDU codec and socket client.

One connection thread owns the link: it connects, binds as a transceiver, reads every PDU
(submit_sm_resp, deliver_sm receipts, enquire_link), sends enquire_link when the link is idle and
reconnects with exponential backoff when the link drops. Callers' threads only write PDUs (under
one lock) and wait for their submit_sm_resp, so `send` is thread-safe and blocking.

Why our own splitting instead of smpplib.gsm.make_parts: it splits encoded bytes, which can cut
a GSM escape pair or a UTF-16 surrogate pair in half, and its GSM table has '`' where '§' is.

Delivery guarantee: a part is retried until the SMSC answers submit_sm_resp. If the link dies
after the SMSC took a part but before its answer reached us, that part is sent again
(at-least-once: the customer may rarely get a duplicate, never nothing).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cuckoo.config.sms import SmppGatewaySettings
from cuckoo.errors import MessageTooLong
from cuckoo.policy.ratelimit import Throttle
from cuckoo.sms.gateway import (
    ReceiptHandler,
    ReceiptStatus,
    SubmitResult,
    SubmitState,
    id_key,
    parse_receipt,
)
from cuckoo.sms.segments import Encoding, encode, split, udh_concat

try:
    import smpplib.client
    import smpplib.consts
    import smpplib.exceptions
    import smpplib.smpp
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError("the SMPP gateway needs smpplib: pip install 'cuckoo[sms]'") from e

log = logging.getLogger(__name__)
# smpplib's client logs a hex dump of every PDU at DEBUG: the bind's password, each message's
# text. Its lines go to this logger, held at INFO whatever the root level is.
_wire_log = logging.getLogger(__name__ + ".wire")
_wire_log.setLevel(logging.INFO)

ESME_ROK = 0x00
ESME_RSYSERR = 0x08
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64  # "ESME receiver temporary app error": the SMSC will resend the receipt
TRANSIENT = {ESME_RSYSERR, ESME_RMSGQFUL}
MAX_OPEN_PARTS = 100_000  # parts of long messages waiting for their receipts
ESM_UDHI = 0x40
ESM_RECEIPT_MASK = 0x3C  # esm_class bits 2-5 carry the message type of a deliver_sm


class _LinkLost(Exception):
    pass


class _LockedSequence:
    """smpplib's sequence generator is not thread-safe; every use is under the send lock anyway,
    this just keeps the numbers in the SMPP range."""

    def __init__(self) -> None:
        self._seq = 0

    @property
    def sequence(self) -> int:
        return self._seq

    def next_sequence(self) -> int:
        self._seq = self._seq % 0x7FFFFFFF + 1
        return self._seq


class _Waiter:
    def __init__(self, group: _Group | None = None) -> None:
        self.event = threading.Event()
        self.pdu: Any = None
        self.lost = False
        self.group = group

    def wait(self, timeout: float) -> Any:
        if not self.event.wait(timeout):
            return None
        if self.lost:
            raise _LinkLost()
        return self.pdu


@dataclass
class _Group:
    """The parts of one message: receipts of every part make one receipt for the first id."""

    total: int
    created: float = field(default_factory=time.monotonic)
    first_id: str | None = None
    delivered: set[str] = field(default_factory=set)
    receipted: set[str] = field(default_factory=set)
    keys: list[str] = field(default_factory=list)  # id_key of every part submitted
    reported: bool = False


class SmppGateway:
    """`SmsGateway` over SMPP 3.4. Starts connecting at once; `close()` unbinds and stops."""

    def __init__(self, name: str, settings: SmppGatewaySettings, *, start: bool = True) -> None:
        self.name = name
        self.settings = settings
        self._handler: ReceiptHandler | None = None
        # burst 1: SMSCs count per calendar second, a burst on top of the rate would overrun.
        self._bucket = Throttle(settings.max_per_second, burst=1.0)
        self._send_lock = threading.Lock()  # writes to the socket + sequence numbers
        self._state_lock = threading.Lock()  # _pending, _groups
        self._pending: dict[int, _Waiter] = {}
        self._groups: dict[str, _Group] = {}
        self._client: Any = None  # smpplib Client while bound
        self._bound = threading.Event()
        self._closed = threading.Event()
        self._last_error = "not connected yet"
        self._refs = itertools.count(1)
        self._last_tx = time.monotonic()
        self.connects = 0  # successful binds, for tests and status
        self._thread = threading.Thread(target=self._run, name=f"smpp-{name}", daemon=True)
        if start:
            self._thread.start()

    # --- public

    def set_receipt_handler(self, handler: ReceiptHandler) -> None:
        self._handler = handler

    def wait_bound(self, timeout: float) -> bool:
        return self._bound.wait(timeout)

    @property
    def last_error(self) -> str:
        return self._last_error

    def close(self) -> None:
        self._closed.set()
        client = self._client
        if client is not None and self._bound.is_set():
            try:
                with self._send_lock:
                    client.send_pdu(smpplib.smpp.make_pdu("unbind", client=client))
            except Exception:  # best effort: we are going away anyway
                pass
        self._drop_link()
        if self._thread.is_alive():
            self._thread.join(timeout=self.settings.response_timeout_s + 2)

    def send(self, to: str, text: str, sender: str) -> SubmitResult:
        try:
            parts = split(text)
        except MessageTooLong as e:
            return SubmitResult(SubmitState.REFUSED, error=str(e))
        if not parts.parts:
            return SubmitResult(SubmitState.REFUSED, error="empty SMS text", parts=0)
        if not sender.isascii():
            return SubmitResult(
                SubmitState.REFUSED, error=f"sender {sender!r}: SMPP source_addr must be Latin"
            )
        deadline = time.monotonic() + self.settings.submit_timeout_s
        total = len(parts.parts)
        group = _Group(total) if total > 1 else None
        ref = next(self._refs) & 0xFF
        first_id: str | None = None
        for seq, part in enumerate(parts.parts, start=1):
            payload = encode(part, parts.encoding)
            if group is not None:
                payload = udh_concat(ref, total, seq) + payload
            result = self._submit(to, sender, payload, parts.encoding, group, deadline)
            if not result.accepted:
                where = f" (part {seq} of {total})" if total > 1 else ""
                return SubmitResult(result.state, first_id, result.error + where, total)
            if first_id is None:
                first_id = result.message_id
        return SubmitResult(SubmitState.ACCEPTED, first_id, parts=total)

    # --- sending

    def _submit(
        self,
        to: str,
        sender: str,
        payload: bytes,
        encoding: Encoding,
        group: _Group | None,
        deadline: float,
    ) -> SubmitResult:
        s = self.settings
        dest = to.lstrip("+") if s.dest_format == "international" else to
        digits = sender.lstrip("+")
        src_ton, src_npi = (1, 1) if digits.isdigit() else (5, 0)  # international / alphanumeric
        params: dict[str, Any] = dict(
            source_addr_ton=src_ton,
            source_addr_npi=src_npi,
            source_addr=digits if digits.isdigit() else sender,
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=dest,
            esm_class=ESM_UDHI if group is not None else 0,
            data_coding=0x08 if encoding is Encoding.UCS2 else 0x00,
            registered_delivery=1 if s.registered_delivery else 0,
            short_message=payload,
        )
        if s.validity_period:
            params["validity_period"] = s.validity_period
        throttle_pause = s.throttle_backoff_s
        while True:
            remaining = deadline - time.monotonic()
            if self._closed.is_set():
                return SubmitResult(SubmitState.UNREACHABLE, error=f"SMPP {self.name} is closed")
            if remaining <= 0:
                return SubmitResult(SubmitState.UNREACHABLE, error=self._why_unreachable())
            wait = self._bucket.reserve()
            if wait >= remaining:
                return SubmitResult(
                    SubmitState.UNREACHABLE, error=f"SMPP {self.name}: throttled past the deadline"
                )
            if wait > 0:
                time.sleep(wait)
            if not self._wait_bound(deadline):
                continue  # closed or past the deadline: the checks above say which
            try:
                waiter = self._send_request("submit_sm", params, group)
                resp = waiter.wait(
                    min(s.response_timeout_s, max(0.05, deadline - time.monotonic()))
                )
            except _LinkLost:
                continue  # the connection thread reconnects; send the part again
            except (smpplib.exceptions.ConnectionError, OSError) as e:
                # Writing failed: make sure the reader notices, and don't spin meanwhile.
                self._last_error = f"write failed: {_error_text(e)}"
                self._drop_link()
                self._closed.wait(0.05)
                continue
            if resp is None:
                # No answer: the link is probably dead. Reset it and send again.
                self._last_error = f"no submit_sm_resp in {s.response_timeout_s:g} s"
                self._drop_link()
                continue
            status = int(resp.status)
            if status == ESME_ROK:
                mid = _text(resp.message_id)
                return SubmitResult(SubmitState.ACCEPTED, mid)
            if status == ESME_RTHROTTLED or status in TRANSIENT:
                log.warning(
                    "SMPP %s: status 0x%02x, pausing %.1f s", self.name, status, throttle_pause
                )
                self._bucket.pause(throttle_pause)
                throttle_pause = min(throttle_pause * 2, 30.0)
                self._last_error = f"SMSC answered 0x{status:08x} ({_describe(status)})"
                continue
            return SubmitResult(
                SubmitState.REFUSED, error=f"SMSC refused: 0x{status:08x} {_describe(status)}"
            )

    def _wait_bound(self, deadline: float) -> bool:
        while not self._closed.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._bound.wait(min(left, 0.2)):
                return True
        return False

    def _why_unreachable(self) -> str:
        s = self.settings
        return f"SMPP {self.name} ({s.host}:{s.port}) unreachable: {self._last_error}"

    def _send_request(self, command: str, params: dict[str, Any], group: _Group | None) -> _Waiter:
        waiter = _Waiter(group)
        with self._send_lock:
            client = self._client
            if client is None or not self._bound.is_set():
                raise _LinkLost()
            pdu = smpplib.smpp.make_pdu(command, client=client, **params)
            with self._state_lock:
                self._pending[pdu.sequence] = waiter
            client.send_pdu(pdu)
            self._last_tx = time.monotonic()
        return waiter

    def _send_response(self, client: Any, command: str, sequence: int, status: int = 0) -> None:
        with self._send_lock:
            pdu = smpplib.smpp.make_pdu(command, client=client, status=status)
            pdu.sequence = sequence  # make_pdu ignores a sequence kwarg
            client.send_pdu(pdu)
            self._last_tx = time.monotonic()

    def _drop_link(self) -> None:
        client = self._client
        sock = getattr(client, "_socket", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    # --- the connection thread

    def _run(self) -> None:
        s = self.settings
        delay = s.reconnect_min_s
        while not self._closed.is_set():
            client = None
            try:
                client = self._bind()
            except Exception as e:
                self._last_error = f"connect/bind failed: {_error_text(e)}"
                log.warning("SMPP %s: %s; retrying in %.1f s", self.name, self._last_error, delay)
                _close_quietly(client)
                self._closed.wait(delay)
                delay = min(delay * 2, s.reconnect_max_s)
                continue
            delay = s.reconnect_min_s
            self.connects += 1
            self._client = client
            self._bound.set()
            log.info("SMPP %s: bound to %s:%s", self.name, s.host, s.port)
            try:
                self._read_loop(client)
            except Exception as e:
                if not self._closed.is_set():
                    self._last_error = f"link lost: {_error_text(e)}"
                    log.warning("SMPP %s: %s", self.name, self._last_error)
            finally:
                self._bound.clear()
                with self._send_lock:
                    self._client = None
                _close_quietly(client)
                self._fail_pending()
            if not self._closed.is_set():
                self._closed.wait(s.reconnect_min_s)

    def _bind(self) -> Any:
        s = self.settings
        client = smpplib.client.Client(
            s.host,
            s.port,
            timeout=s.response_timeout_s,
            sequence_generator=_LockedSequence(),
            allow_unknown_opt_params=True,
            logger_name=_wire_log.name,
        )
        try:
            client.connect()
            client.bind_transceiver(
                system_id=s.system_id, password=s.password, system_type=s.system_type
            )
        except BaseException:
            _close_quietly(client)
            raise
        return client

    def _read_loop(self, client: Any) -> None:
        s = self.settings
        sock = client._socket
        last_rx = time.monotonic()
        ping_sent: float | None = None
        while not self._closed.is_set():
            readable, _, _ = select.select([sock], [], [], 0.2)
            now = time.monotonic()
            if readable:
                pdu = client.read_pdu()
                last_rx = now
                ping_sent = None
                if self._dispatch(client, pdu) == "unbind":
                    return
                continue
            if ping_sent is not None:
                if now - ping_sent > s.response_timeout_s:
                    raise _LinkLost(f"no enquire_link_resp in {s.response_timeout_s:g} s")
            elif now - max(last_rx, self._last_tx) >= s.enquire_link_s:
                with self._send_lock:
                    client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                    self._last_tx = now
                ping_sent = now

    def _dispatch(self, client: Any, pdu: Any) -> str:
        command = pdu.command
        if command in ("submit_sm_resp", "generic_nack", "enquire_link_resp", "unbind_resp"):
            with self._state_lock:
                waiter = self._pending.pop(pdu.sequence, None)
            if waiter is not None:
                if command == "submit_sm_resp" and int(pdu.status) == ESME_ROK:
                    # Register the part before reading the next PDU: its receipt may be next.
                    self._register_part(waiter.group, _text(pdu.message_id))
                waiter.pdu = pdu
                waiter.event.set()
        elif command == "deliver_sm":
            status = self._on_deliver_sm(pdu)
            self._send_response(client, "deliver_sm_resp", pdu.sequence, status)
        elif command == "enquire_link":
            self._send_response(client, "enquire_link_resp", pdu.sequence)
        elif command == "unbind":
            self._send_response(client, "unbind_resp", pdu.sequence)
            self._last_error = "the SMSC unbound"
            return "unbind"
        else:
            log.debug("SMPP %s: ignoring %s", self.name, command)
        return ""

    def _fail_pending(self) -> None:
        with self._state_lock:
            waiters = list(self._pending.values())
            self._pending.clear()
        for w in waiters:
            w.lost = True
            w.event.set()

    # --- receipts

    def _register_part(self, group: _Group | None, message_id: str) -> None:
        if group is None or not message_id:
            return
        with self._state_lock:
            if group.first_id is None:
                group.first_id = message_id
            self._groups[id_key(message_id)] = group
            group.keys.append(id_key(message_id))
            if len(self._groups) > MAX_OPEN_PARTS:  # receipts that never came: forget the oldest
                oldest = sorted(self._groups, key=lambda k: self._groups[k].created)
                for key in oldest[: len(oldest) // 10]:
                    del self._groups[key]

    def _on_deliver_sm(self, pdu: Any) -> int:
        esm = int(pdu.esm_class or 0)
        if not esm & ESM_RECEIPT_MASK:
            log.info("SMPP %s: ignoring a mobile-originated message", self.name)
            return ESME_ROK
        receipt = parse_receipt(
            pdu.short_message,
            getattr(pdu, "receipted_message_id", None),
            getattr(pdu, "message_state", None),
        )
        if receipt is None or receipt.status is None:
            return ESME_ROK  # no id, or an interim state (ENROUTE, ACCEPTD)
        report_id: str | None = receipt.message_id
        final: ReceiptStatus | None = receipt.status
        with self._state_lock:
            group = self._groups.get(id_key(receipt.message_id))
            if group is not None:
                report_id, final = self._fold(group, receipt.message_id, receipt.status)
        if report_id is None or final is None or self._handler is None:
            return ESME_ROK
        try:
            self._handler(report_id, final.value)
        except Exception:
            log.exception("SMPP %s: receipt handler failed; asking the SMSC to resend", self.name)
            if group is not None:  # undo the fold so the resent receipt counts again
                with self._state_lock:
                    group.reported = False
                    group.receipted.discard(id_key(receipt.message_id))
                    for k in group.keys:
                        self._groups[k] = group
            return ESME_RX_T_APPN
        return ESME_ROK

    def _fold(
        self, group: _Group, part_id: str, status: ReceiptStatus
    ) -> tuple[str | None, ReceiptStatus | None]:
        """Called under _state_lock. Any failed part fails the message at once; it is delivered
        when every part is (multipart_receipt = "all") or at the first delivered part ("first",
        for SMSCs that send one receipt per long message)."""
        key = id_key(part_id)
        group.receipted.add(key)
        if len(group.receipted) >= group.total:  # every part has had its receipt: forget it
            for k in group.keys:
                self._groups.pop(k, None)
        if group.reported:
            return None, None  # a later part of a message already reported
        if status is ReceiptStatus.DELIVERED and self.settings.multipart_receipt == "all":
            group.delivered.add(key)
            if len(group.delivered) < group.total:
                return None, None
        group.reported = True
        return group.first_id, status


def _text(v: Any) -> str:
    if v is None:
        return ""
    return (v.decode("latin-1") if isinstance(v, bytes) else str(v)).strip("\x00 ")


def _error_text(e: BaseException) -> str:
    """smpplib raises PDUError(text, status) and bare ConnectionError(); make both readable."""
    if isinstance(e, smpplib.exceptions.PDUError) and len(e.args) > 1:
        return f"{e.args[0]} (0x{int(e.args[1]):08x})"
    if isinstance(e, smpplib.exceptions.ConnectionError) and not str(e):
        return "connection refused or closed"
    return str(e) or type(e).__name__


def _describe(status: int) -> str:
    return str(smpplib.consts.DESCRIPTIONS.get(status, "unknown status"))


def _close_quietly(client: Any) -> None:
    if client is None:
        return
    client.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN  # or it warns about closing when bound
    with contextlib.suppress(Exception):
        client.disconnect()
