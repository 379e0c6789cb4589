"""systemd's service notifications (sd_notify), spoken directly: one datagram per message to the
AF_UNIX socket named by $NOTIFY_SOCKET ("@name" is Linux's abstract namespace). No library:
the protocol is "KEY=VALUE" lines in one datagram.

`cuckoo run` under a Type=notify unit: READY=1 once the worker has started, WATCHDOG=1 every
half $WATCHDOG_USEC while the scheduler is healthy, STATUS= lines for `systemctl status`,
STOPPING=1 on shutdown. Without $NOTIFY_SOCKET every call does nothing, so the same code runs
in a terminal.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def socket_address(value: str) -> str | None:
    """$NOTIFY_SOCKET → an address for sendto: a path, or "\\0name" for "@name"; None for what
    we do not speak (vsock: addresses)."""
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


def watchdog_interval(env: Mapping[str, str], pid: int) -> float | None:
    """Seconds between WATCHDOG=1 pings: half of $WATCHDOG_USEC, as systemd advises; None when
    there is no watchdog or $WATCHDOG_PID names another process."""
    usec = env.get("WATCHDOG_USEC", "")
    owner = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if owner and owner != str(pid):
        return None
    return int(usec) / 2 / 1_000_000


class Notifier:
    """Sends service notifications; does nothing when `address` is None (not under systemd).
    A failed send is logged once and never raises: notifications must not stop the worker."""

    def __init__(self, address: str | None, watchdog_s: float | None = None) -> None:
        self.address = address
        self.watchdog_s = watchdog_s if address else None
        self._warned = False
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, pid: int | None = None) -> Notifier:
        env = os.environ if env is None else env
        raw = env.get("NOTIFY_SOCKET", "")
        address = socket_address(raw) if raw else None
        if raw and address is None:
            log.warning("NOTIFY_SOCKET=%s: not an AF_UNIX socket; no systemd notifications", raw)
        return cls(address, watchdog_interval(env, os.getpid() if pid is None else pid))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """One datagram of "KEY=VALUE" lines; True if it was sent."""
        if self.address is None:
            return False
        # STATUS= is one line: a newline would start a new (bogus) field
        data = "\n".join(f.replace("\n", " ") for f in fields).encode("utf-8")
        try:
            with (
                self._lock,
                socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s,
            ):
                s.sendto(data, self.address)
            return True
        except OSError as e:
            if not self._warned:
                self._warned = True
                log.warning("systemd notification to %r failed: %s", self.address, e)
            return False

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={status}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str) -> bool:
        return self.send("STOPPING=1", f"STATUS={status}")


def serve(
    notifier: Notifier,
    stop: threading.Event,
    health: Callable[[], str | None],
    status: Callable[[], str],
    *,
    tick_s: float = 1.0,
) -> None:
    """Wait for `stop`; meanwhile, every watchdog interval, ping the watchdog if `health()`
    says nothing is wrong (None), else put its complaint in STATUS and skip the ping, so that
    systemd restarts a worker whose scheduler has stalled."""
    every = notifier.watchdog_s
    wait = min(tick_s, every) if every else tick_s
    next_ping = time.monotonic()
    while True:
        if every and time.monotonic() >= next_ping:
            problem = health()
            if problem is None:
                notifier.send("WATCHDOG=1", f"STATUS={status()}")
            else:
                log.warning("not pinging the systemd watchdog: %s", problem)
                notifier.status(f"unhealthy: {problem}")
            next_ping = time.monotonic() + every
        if stop.wait(wait):
            return
