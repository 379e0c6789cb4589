"""Telephony benchmark: real SIP calls on loopback between the robot's call worker processes and
simulated customer phones (separate processes, 4 calls each — the pjsua2 wheel's limit).

    .venv/bin/python benchmarks/telephony.py --calls 60          # concurrency, CPU, latencies
    .venv/bin/python benchmarks/telephony.py --sequential 500    # soak: one call after another
    .venv/bin/python benchmarks/telephony.py --shutdown 8        # stop with calls in progress
    .venv/bin/python benchmarks/telephony.py --memory 4,16,60    # RSS per worker and per call

Each concurrent call: the robot plays a pre-rendered greeting (espeak-ng, ~5 s), listens for a
key; the customer presses "1" (RFC 2833) once the robot is quiet; the robot answers with a
confirmation prompt and hangs up. Measured:
- calls answered at the same time and whether all completed (outcome confirmed);
- CPU seconds of the robot's worker processes per call and per call-second;
- DTMF press → first robot audio frame heard by the customer (p50/p95);
- 200 OK → first frame of the greeting: robot side (pjsua2 CONFIRMED → first frame pulled by the
  media clock) and customer side (its 200 OK → first loud frame received).

--memory: the workers carry the configured voice (cuckoo.toml's [speech], as `cuckoo run` builds
it: RHVoice/Silero/Festival/espeak-ng, the stress placer, the recognizer), warmed with one phrase.
RSS (/proc/PID/status VmRSS) of each worker process (with any child it started, e.g. a Festival
server) at rest, then while N calls are up at once (each: a phrase of its own synthesized and
said, then listening for a key), then after they ended. MB per concurrent call = (total under
load − total at rest) / N; total / N adds the idle workers' cost. PSS (/proc/PID/smaps_rollup)
is printed beside the totals: RSS counts the shared library pages once per process.
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
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cuckoo.config.telephony import TelephonySettings  # noqa: E402  (after the path above)
from cuckoo.domain import Outcome  # noqa: E402
from cuckoo.line import Expect, Line, ReplyKind  # noqa: E402
from cuckoo.line.audio import Audio  # noqa: E402
from cuckoo.line.leg import CallReport, CallRequest, Conversation, ConversationResult  # noqa: E402
from cuckoo.line.speech import RecognizerFactory, SpeechSetup, Synthesizer  # noqa: E402
from cuckoo.telephony.pool import CallPool, WorkerSpec  # noqa: E402

if TYPE_CHECKING:
    from cuckoo.config import Config

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


@dataclass(frozen=True)
class HoldConversation:
    """--memory: a phrase of this call's own (synthesized, not from the phrase cache), then
    listen for a key for `hold_s`, so that every call is up at the same time."""

    hold_s: float

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        number = request.uri.split(":")[1].split("@")[0].lstrip("m")
        reply = line.say(f"Ирина Сергеевна, здравствуйте! Ваш заказ номер {number} готов.")
        if reply is None:
            reply = line.listen(Expect(speech=False, no_speech_timeout_s=self.hold_s))
        return ConversationResult(Outcome.DELIVERED, detail=reply.kind.value)


@dataclass(frozen=True)
class WarmSpeech:
    """--memory: the configured voice and recognizer (as `cuckoo run` builds them in a worker),
    then one phrase, so that the lazily loaded parts (morphology dictionaries) count in the
    worker's resting RSS, not in its first call's."""

    config: Config

    def __call__(self) -> tuple[Synthesizer | None, RecognizerFactory | None]:
        from cuckoo.worker.channels import ConfiguredSpeech

        synth, recognizer = ConfiguredSpeech(self.config)()
        if synth is not None:  # a number of its own: synthesized even with a warm cache
            synth.synthesize(f"Ирина Сергеевна, здравствуйте! Ваш заказ номер {os.getpid()} готов.")
        return synth, recognizer


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


def make_pool(calls: int, converse: Conversation, speech: SpeechSetup | None = None) -> CallPool:
    settings = TelephonySettings(
        bind_host="127.0.0.1",
        workers=max(1, math.ceil(calls / 4)),
        calls_per_worker=4,
        ring_timeout_s=15,
        calls_per_second=CPS,
        rtp_timeout_s=10,
    )
    # no speech setup (but --memory's): the benchmark plays pre-rendered WAVs
    spec = WorkerSpec(
        settings, converse=converse, speech=speech, extra_sys_path=(str(Path(__file__).parent),)
    )
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


# ---- --memory -------------------------------------------------------------------------------


def _proc_kb(path: str, key: str) -> int:
    """A "Key:   123 kB" line of a /proc file, in kB (0: the process is gone)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    return kids


@dataclass(frozen=True)
class Mem:
    rss_mb: float
    pss_mb: float


def tree_mem(pid: int, kids: dict[int, list[int]], pss: bool) -> Mem:
    """RSS and PSS of `pid` and its descendants (a worker's Festival server, espeak-ng)."""
    todo, rss_kb, pss_kb = [pid], 0, 0
    while todo:
        p = todo.pop()
        rss_kb += _proc_kb(f"/proc/{p}/status", "VmRSS")
        if pss:
            pss_kb += _proc_kb(f"/proc/{p}/smaps_rollup", "Pss")
        todo += kids.get(p, [])
    return Mem(rss_kb / 1024, pss_kb / 1024)


def sample(pids: list[int], *, tree: bool = True, pss: bool = True) -> list[Mem]:
    """Each process with its descendants (tree=False: alone — the parent's are the workers).
    pss=False: RSS only — smaps_rollup walks the page tables, which took seconds on a busy
    machine, longer than some calls stay up."""
    kids = _children() if tree else {}
    return [tree_mem(p, kids, pss) for p in pids]


def calls_up(sims: Sims) -> int:
    """Calls the customers have answered and not yet ended."""
    up = 0
    for e in sims.all_events():
        if e["event"] == "answered":
            up += 1
        elif e["event"] == "ended" and e.get("answered"):
            up -= 1
    return up


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.0f} MB (min {min(values):.0f}, max {max(values):.0f})"


@dataclass(frozen=True)
class MemRow:
    n: int
    up: int
    workers: int
    rest: list[Mem]
    load: list[Mem]


def memory_config(voice: str | None) -> Config:
    from cuckoo.config import load

    config = load(REPO / "cuckoo.toml")
    if voice:
        config = config.model_copy(
            update={"speech": config.speech.model_copy(update={"voice": voice})}
        )
    return config


def describe_speech(config: Config) -> str:
    from cuckoo.speech.models import find_asr_model
    from cuckoo.speech.tts import choose_voice, load_profiles

    profile, _ = choose_voice(config, load_profiles(config.path(config.voices_dir)), None)
    asr = find_asr_model(config)
    stress = profile.stress if profile.stress != "off" else "off"
    return (
        f"voice {profile.name} (engine {profile.engine}, stress {stress}); "
        f"recognizer: {asr.name if asr else 'none (keys only)'}"
    )


def memory_one(n: int, config: Config, workdir: Path) -> MemRow:
    workdir.mkdir()
    # var_dir (the phrase cache) in this run's folder: every N starts with a cold cache, like
    # each call's phrase; the repo's var/ stays untouched
    config = config.model_copy(update={"var_dir": workdir})
    n_workers = math.ceil(n / 4)
    hold_s = n / CPS + 15  # dialing all n takes n / CPS; then ~15 s with every call up
    print(f"\n== memory: {n} concurrent calls ({n_workers} workers × 4 calls) ==", flush=True)
    t = time.monotonic()
    sims = Sims(n_workers, {"default": {"answer_after_s": 0.2}}, workdir)
    pool = make_pool(n, HoldConversation(hold_s), WarmSpeech(config)).start(timeout=900)
    ready = sum(w.ready.is_set() and not w.dead and w.port > 0 for w in pool._workers)
    print(f"{ready}/{n_workers} workers up, voice warm, in {time.monotonic() - t:.0f} s")
    time.sleep(2.0)  # let start-up garbage go before the baseline
    pids = pool.worker_pids()
    sim_pids = [p.pid for p in sims.procs]
    rest = sample(pids)
    parent_rest = sample([os.getpid()], tree=False)[0]
    sims_rest = sample(sim_pids, pss=False)

    futs: list[Future[CallReport]] = []
    t0 = time.monotonic()
    for i in range(n):
        port = sims.ports[i % len(sims.ports)]
        futs.append(pool.submit(CallRequest(f"sip:m{100 + i}@127.0.0.1:{port}")))
    # Sample while the most calls are up: once all n are, else (they never all are) at the
    # latest moment every call could still be in its listening window.
    deadline = t0 + hold_s - 2
    up = calls_up(sims)
    while up < n and time.monotonic() < deadline and not all(f.done() for f in futs):
        time.sleep(0.25)
        up = calls_up(sims)
    print(f"{up} of {n} calls up {time.monotonic() - t0:.1f} s after the first was dialed")
    # RSS every second until the first call may end (its listening ends ≥ hold_s after the
    # first dial): the robot speaks only after its answering-machine check (2.5 s) and, with
    # 60 calls on 2 cores, the last greetings are still being synthesized seconds later.
    load_samples: list[list[Mem]] = []
    up_counts: list[int] = []
    while time.monotonic() < t0 + hold_s - 1:
        load_samples.append(sample(pids, pss=False))
        up_counts.append(calls_up(sims))
        time.sleep(1.0)
    pss_load = sample(pids)  # once, after the RSS samples: the slow one
    pss_up = calls_up(sims)
    ups = (
        f"{min(up_counts)}–{max(up_counts)} at {len(up_counts)} RSS samples to "
        f"{hold_s - 1:.0f} s, {pss_up} at the PSS sample "
        f"({time.monotonic() - t0:.1f} s)"
    )
    # per worker, the highest RSS of the samples taken with the most calls up
    best = [s for s, u in zip(load_samples, up_counts, strict=True) if u == max(up_counts)]
    load = [Mem(max(s[i].rss_mb for s in best), pss_load[i].pss_mb) for i in range(len(pids))]
    parent_load = sample([os.getpid()], tree=False)[0]
    sims_load = sample(sim_pids, pss=False)

    wait(futs, timeout=hold_s + 60)
    results = [f.result() for f in futs if f.done()]
    unfinished = len(futs) - len(results)
    outcomes: dict[str, int] = {"unfinished": unfinished} if unfinished else {}
    for r in results:  # detail: how the listening ended (timeout, or the customer's hangup)
        key = f"{r.outcome}/{r.detail}"
        outcomes[key] = outcomes.get(key, 0) + 1
    ends = [e["t"] - t0 for e in sims.all_events() if e["event"] == "ended"]
    time.sleep(2.0)
    after = sample(pids)
    restarts = pool.restarts
    pool.stop()
    sims.stop()

    def tot(ms: list[Mem]) -> tuple[float, float]:
        return sum(m.rss_mb for m in ms), sum(m.pss_mb for m in ms)

    (r0, p0), (r1, p1), (r2, p2) = tot(rest), tot(load), tot(after)
    print(
        f"calls up (customer side, after the first dial): {ups}; "
        f"first call ended at {min(ends, default=0):.1f} s"
    )
    print(f"outcomes {outcomes}; worker restarts {restarts}")
    print(f"RSS per worker at rest:      {spread([m.rss_mb for m in rest])}")
    print(f"RSS per worker under load:   {spread([m.rss_mb for m in load])}")
    print(f"RSS per worker after calls:  {spread([m.rss_mb for m in after])}")
    print(
        f"workers total RSS: at rest {r0:.0f} MB, under load {r1:.0f} MB, "
        f"after the calls {r2:.0f} MB"
    )
    print(f"workers total PSS: at rest {p0:.0f} MB, under load {p1:.0f} MB, after {p2:.0f} MB")
    print(
        f"MB per concurrent call: {(r1 - r0) / n:.1f} MB RSS ({(p1 - p0) / n:.1f} MB PSS) "
        f"above the idle workers; {r1 / n:.0f} MB RSS ({p1 / n:.0f} MB PSS) "
        f"with the workers' own cost (total / {n})"
    )
    if max(up_counts) < n:
        print(f"NOTE: at most {max(up_counts)} of {n} calls were up at once: figures for those")
    elif min(up_counts) < n:
        print(f"(RSS under load: the {len(best)} samples with all {n} calls up)")
    print(
        f"benchmark parent (pool, not a whole `cuckoo run`): {parent_rest.rss_mb:.0f} → "
        f"{parent_load.rss_mb:.0f} MB RSS; sim-phones (the customers, same machine): "
        f"{sum(m.rss_mb for m in sims_rest):.0f} → {sum(m.rss_mb for m in sims_load):.0f} MB RSS "
        f"in {len(sim_pids)} processes"
    )
    return MemRow(n, max(up_counts), n_workers, rest, load)


def memory(ns: list[int], voice: str | None, workdir: Path) -> None:
    config = memory_config(voice)
    print(f"speech in the workers: {describe_speech(config)}")
    rows = [memory_one(n, config, workdir / f"mem{n}") for n in ns]
    print("\n== memory summary (RSS, MB) ==")
    print("calls  up  workers  per worker rest  per worker load  total rest  total load  "
          "MB/call  total/N")  # fmt: skip
    for r in rows:
        rest = sum(m.rss_mb for m in r.rest)
        load = sum(m.rss_mb for m in r.load)
        print(
            f"{r.n:5d} {r.up:3d} {r.workers:8d} "
            f"{statistics.median([m.rss_mb for m in r.rest]):16.0f} "
            f"{statistics.median([m.rss_mb for m in r.load]):16.0f} "
            f"{rest:11.0f} {load:11.0f} {(load - rest) / r.n:8.1f} {load / r.n:8.0f}"
        )


def main() -> int:
    global CPS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--calls", type=int, default=0, help="concurrent calls")
    ap.add_argument("--sequential", type=int, default=0, help="sequential calls (soak)")
    ap.add_argument("--shutdown", type=int, default=0, help="stop with this many calls active")
    ap.add_argument("--cps", type=float, default=CPS, help="new calls per second (default 10)")
    ap.add_argument(
        "--memory",
        nargs="?",
        const="4,16,60",
        default="",
        metavar="N,N,...",
        help="RSS per worker and per call at these numbers of concurrent calls (default 4,16,60)",
    )
    ap.add_argument("--voice", help="--memory: this voice profile instead of the configured one")
    args = ap.parse_args()
    CPS = args.cps
    mem_ns = [int(x) for x in args.memory.split(",") if x.strip()]
    if not (args.calls or args.sequential or args.shutdown or mem_ns):
        args.calls = 60
    print(f"machine: {os.cpu_count()} CPUs; calls per second cap {CPS:g}")
    with tempfile.TemporaryDirectory(prefix="cuckoo-bench-") as d:
        if args.calls:
            concurrent(args.calls, Path(d))
        if args.shutdown:
            shutdown(args.shutdown, Path(d))
        if args.sequential:
            sequential(args.sequential, Path(d))
        if mem_ns:
            memory(mem_ns, args.voice, Path(d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
