"""Telephony benchmark: real SIP calls on loopback between the robot's call worker processes and
simulated customer phones (separate processes, 4 calls each — the pjsua2 wheel's limit).

    .venv/bin/python benchmarks/telephony.py --calls 60          # concurrency, CPU, latencies
    .venv/bin/python benchmarks/telephony.py --sequential 500    # soak: one call after another
    .venv/bin/python benchmarks/telephony.py --shutdown 8        # stop with calls in progress

Each concurrent call: the robot plays a pre-rendered greeting (espeak-ng, ~5 s), listens for a
key; the customer presses "1" (RFC 2833) once the robot is quiet; the robot answers with a
confirmation prompt and hangs up. Measured:
- calls answered at the same time and whether all completed (outcome confirmed);
- CPU seconds of the robot's worker processes per call and per call-second;
- DTMF press → first robot audio frame heard by the customer (p50/p95);
- 200 OK → first frame of the greeting: robot side (pjsua2 CONFIRMED → first frame pulled by the
  media clock) and customer side (its 200 OK → first loud frame received).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cuckoo.config.telephony import TelephonySettings  # noqa: E402  (after the path above)
from cuckoo.domain import Outcome  # noqa: E402
from cuckoo.line import Expect, Line, ReplyKind  # noqa: E402
from cuckoo.line.audio import Audio  # noqa: E402
from cuckoo.line.leg import CallReport, CallRequest, Conversation, ConversationResult  # noqa: E402
from cuckoo.telephony.pool import CallPool, WorkerSpec  # noqa: E402

GREETING = (
    "Здравствуйте! Это компания Ромашка. Ваши документы готовы и отправлены. "
    "Нажмите один, чтобы подтвердить получение."
)
CONFIRM = "Спасибо, до свидания."


@dataclass(frozen=True)
class BenchConversation:
    """Greeting → wait for a key → confirmation (runs in the robot's worker processes)."""

    greeting_wav: str
    confirm_wav: str
    wait_s: float

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        reply = line.play(Audio.read_wav(self.greeting_wav))
        if reply is None:
            reply = line.listen(Expect(speech=False, no_speech_timeout_s=self.wait_s))
        if reply.kind == ReplyKind.HANGUP:
            return ConversationResult(Outcome.REJECTED, detail="hung up")
        if reply.kind != ReplyKind.DTMF:
            return ConversationResult(Outcome.DELIVERED, detail=reply.kind.value)
        line.play(Audio.read_wav(self.confirm_wav), barge_in=False)
        outcome = Outcome.CONFIRMED if reply.digits == "1" else Outcome.DELIVERED
        return ConversationResult(outcome, dtmf=reply.digits)


@dataclass(frozen=True)
class ShortConversation:
    """Soak: a short prompt, then hang up."""

    wav: str

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        reply = line.play(Audio.read_wav(self.wav))
        return ConversationResult(Outcome.DELIVERED if reply is None else Outcome.REJECTED)


class Sims:
    """N sim-phone processes."""

    def __init__(self, n: int, script: dict[str, Any], workdir: Path) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.events: list[Path] = []
        self.ports: list[int] = []
        sp = workdir / "sim-script.json"
        sp.write_text(json.dumps(script))
        for i in range(n):
            ev = workdir / f"sim{i}.jsonl"
            ev.write_text("")
            self.events.append(ev)
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "cuckoo.cli.main",
                        "sim-phone",
                        "--port",
                        "0",
                        "--script",
                        str(sp),
                        "--events",
                        str(ev),
                    ],
                    cwd=REPO,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for ev in self.events:
            self.ports.append(int(self._wait_ready(ev)["port"]))

    @staticmethod
    def _wait_ready(ev: Path) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in ev.read_text().splitlines():
                e = json.loads(line)
                if e["event"] == "ready":
                    return e
            time.sleep(0.1)
        raise RuntimeError(f"sim-phone did not start ({ev})")

    def all_events(self) -> list[dict[str, Any]]:
        out = []
        for ev in self.events:
            out += [json.loads(x) for x in ev.read_text().splitlines() if x.strip()]
        return out

    def stop(self) -> list[int]:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        return [p.wait(20) for p in self.procs]


def cpu_seconds(pids: list[int]) -> float:
    tck = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tck
        except (OSError, IndexError):
            pass
    return total


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, max(0, math.ceil(q / 100 * len(v)) - 1))]


def render(workdir: Path) -> tuple[str, str]:
    from cuckoo.speech.tts import espeak_synthesizer

    synth = espeak_synthesizer()
    g, c = workdir / "greeting.wav", workdir / "confirm.wav"
    synth.synthesize(GREETING).write_wav(g)
    synth.synthesize(CONFIRM).write_wav(c)
    return str(g), str(c)


CPS = 10.0  # new calls per second (a typical trunk's cap); --cps changes it


def make_pool(calls: int, converse: Conversation) -> CallPool:
    settings = TelephonySettings(
        bind_host="127.0.0.1",
        workers=max(1, math.ceil(calls / 4)),
        calls_per_worker=4,
        ring_timeout_s=15,
        calls_per_second=CPS,
        rtp_timeout_s=10,
    )
    # no speech setup: the benchmark plays pre-rendered WAVs
    spec = WorkerSpec(settings, converse=converse, extra_sys_path=(str(Path(__file__).parent),))
    return CallPool(settings, spec)


def concurrent(n: int, workdir: Path) -> None:
    greeting, confirm = render(workdir)
    script = {
        "default": {
            "answer_after_s": 0.2,
            "dtmf_after_quiet_s": 1.0,
            "dtmf": [{"at_s": 1.0, "keys": "1", "method": "rfc2833"}],
        }
    }
    n_sims = math.ceil(n / 4)
    print(f"starting {n_sims} sim-phone processes and {math.ceil(n / 4)} robot workers ...")
    sims = Sims(n_sims, script, workdir)
    pool = make_pool(n, BenchConversation(greeting, confirm, 10)).start(timeout=120)
    pids = pool.worker_pids()
    sim_pids = [p.pid for p in sims.procs]
    cpu0 = cpu_seconds(pids)
    sim_cpu0 = cpu_seconds(sim_pids)
    t0 = time.monotonic()
    futs: list[Future[CallReport]] = []
    for i in range(n):
        port = sims.ports[i % n_sims]
        futs.append(pool.submit(CallRequest(f"sip:c{i}@127.0.0.1:{port}", greeting_wav=greeting)))
    wait(futs, timeout=180)
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pids) - cpu0
    sim_cpu = cpu_seconds(sim_pids) - sim_cpu0
    results = [f.result() for f in futs if f.done()]
    unfinished = len(futs) - len(results)
    pool.stop()
    time.sleep(1.0)
    events = sims.all_events()
    sim_codes = sims.stop()

    outcomes: dict[str, int] = {"unfinished": unfinished} if unfinished else {}
    for r in results:
        outcomes[str(r.outcome)] = outcomes.get(str(r.outcome), 0) + 1
    # Peak of simultaneously answered calls, from the customers' answered/ended events.
    marks = []
    for e in events:
        if e["event"] == "answered":
            marks.append((e["t"], 1))
        elif e["event"] == "ended" and e.get("answered"):
            marks.append((e["t"], -1))
    peak = cur = 0
    for _, d in sorted(marks):
        cur += d
        peak = max(peak, cur)
    ended = [e for e in events if e["event"] == "ended" and e.get("answered")]
    reactions = [x for e in ended for x in e.get("dtmf_reaction_s") or []]
    sim_first = [e["first_audio_s"] for e in ended if e.get("first_audio_s") is not None]
    robot_first = [r.first_audio_s for r in results if r.first_audio_s is not None]
    robot_react = [x for r in results for x in r.dtmf_reaction_s]
    # key pressed (customer) → key received (robot): CLOCK_MONOTONIC is system-wide
    pressed = {e["user"]: e["t"] for e in events if e["event"] == "dtmf"}
    transit, to_reply = [], []
    for r in results:
        user = r.uri.split(":")[1].split("@")[0]
        if r.dtmf_received_at and user in pressed:
            transit.append(r.dtmf_received_at[0] - pressed[user])
            if r.dtmf_reaction_s:
                to_reply.append(transit[-1] + r.dtmf_reaction_s[0])
    call_s = sum(r.duration_s for r in results)
    completed = outcomes.get("confirmed", 0)
    print(f"\n== {n} concurrent calls (playback + listening + DTMF) ==")
    print(f"outcomes:            {outcomes}  ({completed}/{n} completed as confirmed)")
    print(f"peak simultaneous answered calls: {peak}")
    print(f"wall time:           {wall:.1f} s")
    print(
        f"robot CPU:           {cpu:.1f} s over {len(pids)} workers = "
        f"{cpu / n:.2f} CPU-s per call, {100 * cpu / max(call_s, 1e-9):.2f}% of a core per "
        f"active call ({cpu / wall:.2f} cores busy)"
    )
    print(f"sim-phones CPU:      {sim_cpu:.1f} s ({sim_cpu / wall:.2f} cores busy) — same machine")
    if to_reply:
        print(
            f"DTMF press → first reply frame sent by the robot: "
            f"p50 {1000 * pct(to_reply, 50):.0f} ms, p95 {1000 * pct(to_reply, 95):.0f} ms, "
            f"max {1000 * max(to_reply):.0f} ms (n={len(to_reply)})"
        )
    if reactions:
        print(
            f"DTMF press → reply heard by the customer (adds the sim-phone's jitter buffer "
            f"and clock): p50 {1000 * pct(reactions, 50):.0f} ms, "
            f"p95 {1000 * pct(reactions, 95):.0f} ms, max {1000 * max(reactions):.0f} ms "
            f"(n={len(reactions)})"
        )
    if transit:
        print(
            f"  of which key pressed → key received by the robot (RFC 2833 path): "
            f"p50 {1000 * pct(transit, 50):.0f} ms, p95 {1000 * pct(transit, 95):.0f} ms"
        )
    if robot_react:
        print(
            f"  of which key received → first reply frame (robot media clock): "
            f"p50 {1000 * pct(robot_react, 50):.0f} ms, p95 {1000 * pct(robot_react, 95):.0f} ms"
        )
    if robot_first:
        print(
            f"200 OK → first greeting frame (robot media clock): "
            f"p50 {1000 * pct(robot_first, 50):.0f} ms, p95 {1000 * pct(robot_first, 95):.0f} ms"
        )
    if sim_first:
        print(
            f"200 OK → first greeting frame heard (customer side, incl. jitter buffer): "
            f"p50 {1000 * pct(sim_first, 50):.0f} ms, p95 {1000 * pct(sim_first, 95):.0f} ms"
        )
    print(f"sim-phone exit codes: {sorted(set(sim_codes))}")


def sequential(n: int, workdir: Path) -> None:
    _, confirm = render(workdir)
    sims = Sims(1, {"default": {"answer_after_s": 0.0}}, workdir)
    pool = make_pool(4, ShortConversation(confirm)).start(timeout=60)
    pids = pool.worker_pids()
    outcomes: dict[str, int] = {}
    t0 = time.monotonic()
    durations = []
    for i in range(n):
        t = time.monotonic()
        r = pool.submit(CallRequest(f"sip:s{i}@127.0.0.1:{sims.ports[0]}")).result(timeout=60)
        durations.append(time.monotonic() - t)
        outcomes[str(r.outcome)] = outcomes.get(str(r.outcome), 0) + 1
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{n} calls, {outcomes}", flush=True)
    same_workers = pool.worker_pids() == pids and pool.restarts == 0
    pool.stop()
    codes = sims.stop()
    print(f"\n== {n} sequential calls ==")
    print(
        f"outcomes: {outcomes}; wall {time.monotonic() - t0:.0f} s; "
        f"per call p50 {statistics.median(durations):.2f} s, max {max(durations):.2f} s"
    )
    print(
        f"worker restarts: {pool.restarts}; same worker processes throughout: {same_workers}; "
        f"sim-phone exit codes {codes}"
    )


def shutdown(n: int, workdir: Path) -> None:
    greeting, confirm = render(workdir)
    sims = Sims(math.ceil(n / 4), {"default": {"answer_after_s": 0.1}}, workdir)
    pool = make_pool(n, BenchConversation(greeting, confirm, 30)).start(timeout=60)
    futs = [
        pool.submit(
            CallRequest(
                f"sip:x{i}@127.0.0.1:{sims.ports[i % len(sims.ports)]}", greeting_wav=greeting
            )
        )
        for i in range(n)
    ]
    time.sleep(3.0)
    t = time.monotonic()
    procs = [w.proc for w in pool._workers]
    pool.stop()
    done = sum(f.done() for f in futs)
    codes = [p.exitcode for p in procs]
    sims.stop()
    print(f"\n== shutdown with {n} calls in progress ==")
    print(
        f"pool.stop() took {time.monotonic() - t:.2f} s; futures resolved {done}/{n}; "
        f"outcomes {sorted({f.result().outcome for f in futs if f.done()})}; "
        f"worker exit codes {codes}"
    )


def main() -> int:
    global CPS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--calls", type=int, default=0, help="concurrent calls")
    ap.add_argument("--sequential", type=int, default=0, help="sequential calls (soak)")
    ap.add_argument("--shutdown", type=int, default=0, help="stop with this many calls active")
    ap.add_argument("--cps", type=float, default=CPS, help="new calls per second (default 10)")
    args = ap.parse_args()
    CPS = args.cps
    if not (args.calls or args.sequential or args.shutdown):
        args.calls = 60
    print(f"machine: {os.cpu_count()} CPUs; calls per second cap {CPS:g}")
    with tempfile.TemporaryDirectory(prefix="cuckoo-bench-") as d:
        if args.calls:
            concurrent(args.calls, Path(d))
        if args.shutdown:
            shutdown(args.shutdown, Path(d))
        if args.sequential:
            sequential(args.sequential, Path(d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
