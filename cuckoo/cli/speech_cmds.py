"""`cuckoo say`, `cuckoo voices list|prerender`, `cuckoo models download|list`.

cuckoo say "Заказ № 123 готов" -o out.wav            # 8 kHz telephony audio, default voice
cuckoo say --voice espeak-ru --rate 22050 "…" -o x.wav
cuckoo say --normalize-only "7 февраля в 10:00"      # prints the text the engine would read
cuckoo voices list                                   # profiles, which can speak here, default
cuckoo voices prerender                              # fill the phrase cache from scenarios
cuckoo models download vosk-small-ru                 # stream, verify sha256, unpack
cuckoo models list                                   # what is installed, what can be fetched
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from cuckoo import config
from cuckoo.dialog import static_phrases
from cuckoo.errors import InputError, TtsError
from cuckoo.speech.models import CATALOG, download, installed
from cuckoo.speech.normalize import normalize
from cuckoo.speech.tts import build_synthesizer, choose_voice, load_profiles, unavailable_reason
from cuckoo.speech.tts.synth import load_lexicon


def register(sub: Any) -> None:
    say = sub.add_parser(
        "say",
        help="speak a text into a WAV file (or print its normalized form)",
        description="Synthesize TEXT with a voice profile (lexicon, normalization and the phrase "
        "cache included) and write a mono 16-bit WAV.",
    )
    say.add_argument("text", help="the text to say")
    say.add_argument("--voice", help="voice profile name (default: [speech] voice or automatic)")
    say.add_argument(
        "--rate",
        default="8000",
        help='sample rate in Hz (default 8000, telephony), or "native" for the voice\'s own',
    )
    say.add_argument("-o", "--output", help="WAV file to write")
    say.add_argument(
        "--normalize-only",
        action="store_true",
        help="print the text after the lexicon and normalization, synthesize nothing",
    )
    say.set_defaults(func=handle_say)

    voices = sub.add_parser("voices", help="voice profiles: list, prerender the phrase cache")
    vsub = voices.add_subparsers(dest="voices_command", metavar="ACTION", required=True)
    vl = vsub.add_parser("list", help="profiles, whether each can speak here, the default")
    vl.set_defaults(func=handle_voices_list)
    vp = vsub.add_parser("prerender", help="synthesize every static phrase of every scenario")
    vp.add_argument("--voice", help="voice profile name (default: [speech] voice or automatic)")
    vp.add_argument("--rate", type=int, default=8000, help="sample rate in Hz (default 8000)")
    vp.set_defaults(func=handle_voices_prerender)

    models = sub.add_parser("models", help="speech models: download, list")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    md = msub.add_parser("download", help="download, verify and unpack a model")
    md.add_argument("name", help="vosk-small-ru | vosk-ru | silero-v4-ru | silero-v5-ru | …")
    md.add_argument("--sha256", help="expected sha256 (required for entries without a pin)")
    md.add_argument(
        "--allow-unpinned",
        action="store_true",
        help="accept a file without a pinned sha256 (prints the hash it got)",
    )
    md.add_argument("--url", help="download from this mirror URL instead of upstream")
    md.set_defaults(func=handle_models_download)
    ml = msub.add_parser("list", help="installed models and the catalog")
    ml.set_defaults(func=handle_models_list)


def _config(args: argparse.Namespace) -> Any:

    return config.load(args.config)


def handle_say(args: argparse.Namespace) -> int:

    cfg = _config(args)
    if args.normalize_only:
        # No engine is started: only the voice's lexicon matters for the text.
        profiles = load_profiles(cfg.path(cfg.voices_dir))
        try:
            profile, _ = choose_voice(cfg, profiles, args.voice)
        except TtsError:  # no engine can run here; the text is still worth seeing
            profile = profiles["espeak-ru"]
        print(normalize(load_lexicon(cfg, profile).apply(args.text)))
        return 0
    if not args.output:
        raise InputError("say: give -o out.wav (or --normalize-only)")
    rate = 0 if args.rate == "native" else int(args.rate) if args.rate.isdigit() else -1
    if rate != 0 and not 4000 <= rate <= 96000:
        raise InputError(f"--rate: {args.rate!r} is not native or 4000-96000 Hz")
    synth = build_synthesizer(cfg, args.voice)
    try:
        started = time.perf_counter()
        audio = synth.synthesize(args.text, rate=rate or synth.engine.native_rate)
        elapsed = time.perf_counter() - started
    finally:
        synth.close()
    try:
        audio.write_wav(args.output)
    except OSError as e:
        raise InputError(f"-o {args.output}: cannot write: {e.strerror}") from e
    print(
        f"{args.output}: {audio.duration_s:.2f} s at {audio.rate} Hz, voice {synth.profile.name}, "
        f"{'from cache' if synth.hits else f'synthesized in {elapsed:.2f} s'}",
        file=sys.stderr,
    )
    return 0


def handle_voices_list(args: argparse.Namespace) -> int:

    cfg = _config(args)
    profiles = load_profiles(cfg.path(cfg.voices_dir))
    try:
        default, why = choose_voice(cfg, profiles, None)
        default_name = default.name
    except Exception as e:  # no voice at all: still list them
        default_name, why = "", str(e)
    table = Table(title=f"voices in {cfg.path(cfg.voices_dir)}")
    for col in ("", "name", "engine", "speaker", "status", "license"):
        table.add_column(col)
    for name, p in sorted(profiles.items()):
        reason = unavailable_reason(cfg, p)
        cells = [
            "*" if name == default_name else "",
            name,
            p.engine,
            p.speaker,
            "ready" if reason is None else reason,
            p.license + (" — not for business use" if p.non_commercial else ""),
        ]
        table.add_row(*(Text(c) for c in cells))  # Text: "[silero]" is not rich markup
    console = Console()
    console.print(table)
    console.print(f"default: {default_name or 'none'} ({why})", markup=False)
    return 0


def handle_voices_prerender(args: argparse.Namespace) -> int:

    cfg = _config(args)
    if not cfg.speech.cache:
        raise InputError("voices prerender: [speech] cache is off, nothing would be kept")
    phrases = static_phrases(cfg.path(cfg.scenarios_dir))
    synth = build_synthesizer(cfg, args.voice)
    started = time.perf_counter()
    try:
        for phrase in phrases:
            synth.synthesize(phrase, rate=args.rate)
    finally:
        synth.close()
    print(
        f"{len(phrases)} phrases for voice {synth.profile.name} at {args.rate} Hz: "
        f"{synth.misses} synthesized, {synth.hits} already cached "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


def handle_models_download(args: argparse.Namespace) -> int:

    spec = CATALOG.get(args.name)
    if spec is None:
        raise InputError(
            f"models download: unknown model {args.name!r} (known: {', '.join(CATALOG)})"
        )
    cfg = _config(args)
    models_dir = cfg.path(cfg.models_dir)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(spec.name, total=spec.size_bytes)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        path, digest = download(
            models_dir,
            spec,
            sha256=args.sha256,
            allow_unpinned=args.allow_unpinned,
            url=args.url,
            progress=progress,
        )
    pinned = "verified" if (args.sha256 or spec.sha256) else "NOT pinned — pin it with --sha256"
    print(f"{spec.name} installed in {path}")
    print(f"sha256 {digest} ({pinned}); license: {spec.license}")
    return 0


def handle_models_list(args: argparse.Namespace) -> int:

    cfg = _config(args)
    models_dir = cfg.path(cfg.models_dir)
    found = installed(models_dir)
    table = Table(title=f"installed speech models (models_dir: {models_dir})")
    for col in ("name", "kind", "language", "size", "from", "path"):
        table.add_column(col)
    for m in found:  # "from": models_dir, or a pip package (the Korean test model)
        size = f"{m.size_bytes / 1e6:.0f} MB"
        cells = [m.name, m.kind, m.language or "?", size, m.source, str(m.path)]
        table.add_row(*(Text(c) for c in cells))
    console = Console()
    if found:
        console.print(table)
    else:
        console.print(f"no speech models installed in {models_dir}", markup=False)
    names = {m.name for m in found}
    missing = [s for s in CATALOG.values() if s.name not in names]
    if missing:
        console.print("available with `cuckoo models download NAME`:")
        for s in missing:
            pin = "sha256 pinned" if s.sha256 else "no sha256 pin"
            console.print(f"  {s.name:15} {s.kind:7} {s.license} ({pin}) {s.note}", markup=False)
            console.print(f"  {'':15} {s.url}", markup=False, soft_wrap=True)
    return 0
