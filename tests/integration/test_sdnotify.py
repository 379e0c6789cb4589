"""systemd's notify protocol against a real AF_UNIX datagram socket, as systemd binds it: the
notifier alone (path and abstract '@' names), the watchdog loop, and a real `cuckoo run`
process (READY=1, WATCHDOG=1, STOPPING=1 on SIGTERM)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.store import Store
from cuckoo.worker.scheduler import Scheduler
from cuckoo.worker.sdnotify import Notifier, serve, socket_address, watchdog_interval

# The dry run's channels as a channel factory: the same texts, but the attempts are recorded
# (`--channel dry-run` itself changes nothing in the store).
RECORDED_ON_PAPER = "cuckoo.worker.channels:dry_run_channels"


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """($NOTIFY_SOCKET, the bound socket) for a path socket, like systemd's own."""
    path = tmp_path / "notify"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(0.2)
    yield str(path), s
    s.close()


def received(s: socket.socket, until: str, timeout: float) -> list[str]:
    """Datagrams (one string each) until one holds the line `until`, or the timeout."""
    got: list[str] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            got.append(s.recv(4096).decode("utf-8"))
        except TimeoutError:
            continue
        if until in got[-1].splitlines():
            break
    return got


def test_addresses_and_watchdog_settings() -> None:
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("@sd-notify-123") == "\0sd-notify-123"
    assert socket_address("vsock:2:1234") is None
    assert watchdog_interval({"WATCHDOG_USEC": "60000000"}, pid=7) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "7"}, pid=7) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "8"}, pid=7) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}, pid=7) is None
    assert watchdog_interval({}, pid=7) is None
    quiet = Notifier.from_env({})
    assert not quiet.enabled and quiet.ready("x") is False


def test_notifier_to_a_path_socket(notify_socket: tuple[str, socket.socket]) -> None:
    address, s = notify_socket
    n = Notifier.from_env({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000"}, pid=1)
    assert n.watchdog_s == 1.0
    assert n.ready("running\nsecond line")
    assert n.watchdog()
    assert n.stopping("bye")
    assert received(s, "STOPPING=1", 5) == [
        "READY=1\nSTATUS=running second line",
        "WATCHDOG=1",
        "STOPPING=1\nSTATUS=bye",
    ]


def test_notifier_to_an_abstract_socket() -> None:
    name = f"cuckoo-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind("\0" + name)
        s.settimeout(5)
        assert Notifier.from_env({"NOTIFY_SOCKET": "@" + name}).ready("up")
        assert s.recv(4096) == b"READY=1\nSTATUS=up"


def test_a_vanished_socket_does_not_stop_the_worker(tmp_path: Path) -> None:
    n = Notifier(str(tmp_path / "gone"))
    assert n.ready("x") is False and n.watchdog() is False  # logged once, never raised


def test_serve_pings_only_while_healthy(notify_socket: tuple[str, socket.socket]) -> None:
    address, s = notify_socket
    n = Notifier(address, watchdog_s=0.05)
    problem: list[str | None] = [None]
    stop = threading.Event()
    t = threading.Thread(target=serve, args=(n, stop, lambda: problem[0], lambda: "fine"))
    t.start()
    try:
        healthy = received(s, "never", 0.5)
        problem[0] = "the dispatch job has not finished for 99 s"
        time.sleep(0.1)  # a ping already under way may still land
        _ = received(s, "never", 0.1)
        sick = received(s, "never", 0.5)
    finally:
        stop.set()
        t.join(5)
    assert not t.is_alive()
    assert len(healthy) >= 5 and set(healthy) == {"WATCHDOG=1\nSTATUS=fine"}
    assert sick and set(sick) == {"STATUS=unhealthy: the dispatch job has not finished for 99 s"}


ALWAYS = "\n".join(
    f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)


@pytest.mark.slow
def test_cuckoo_run_speaks_to_systemd(tmp_path: Path, notify_socket: tuple[str, socket.socket]):
    address, s = notify_socket
    (tmp_path / "cuckoo.toml").write_text(
        f'var_dir = "state"\n[scheduler]\ndispatch_interval_s = 0.2\nshutdown_grace_s = 5\n'
        f"[policy.window]\n{ALWAYS}\n[policy.sms_window]\n{ALWAYS}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "CUCKOO_CONFIG"}

    def cuckoo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cuckoo.cli.main", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert cuckoo("db", "upgrade").returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "cuckoo.cli.main", "run", "--channel", RECORDED_ON_PAPER],
        cwd=tmp_path,
        env={**env, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"},  # a ping per 0.2 s
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = received(s, "READY=1", 60)
        assert started and started[-1].startswith("READY=1\nSTATUS=running: worker ")
        assert any(m.startswith("STATUS=starting") for m in started[:-1])
        pings = received(s, "never", 1.0)
        assert sum("WATCHDOG=1" in m.splitlines() for m in pings) >= 3
        proc.send_signal(signal.SIGTERM)
        stopping = received(s, "STOPPING=1", 30)
        assert stopping and stopping[-1].startswith("STOPPING=1\nSTATUS=stopping: up to 5 s")
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "clean shutdown" in err


def test_scheduler_health_notices_a_silent_dispatch_job(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    # dispatch runs at start, then not for 60 s: silent for longer than stall_s
    settings = SchedulerSettings(dispatch_interval_s=60, poll_interval_s=60)
    scheduler = Scheduler(store, {}, settings=settings)
    try:
        assert scheduler.health() == "the scheduler is not running"
        scheduler.start()
        deadline = time.monotonic() + 10
        while scheduler._last_dispatch is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert scheduler.health(stall_s=5) is None
        time.sleep(0.4)
        problem = scheduler.health(stall_s=0.3)
        assert problem is not None and problem.startswith("the dispatch job has not finished")
    finally:
        scheduler.stop(grace_s=0)
        store.close()
    assert scheduler.health() == "the scheduler is not running"
