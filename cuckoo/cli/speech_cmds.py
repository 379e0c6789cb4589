"""`cuckoo say`, `cuckoo voices list|prerender`, `cuckoo models download|list`.

cuckoo say "Заказ № 123 готов" -o out.wav            # 8 kHz telephony audio, default voice
cuckoo say --voice espeak-ru --rate 22050 "…" -o x.wav
cuckoo say --normalize-only "7 февраля в 10:00"      # prints the text the engine would read
cuckoo voices [list] [--json]                        # profiles, which can speak here, default
cuckoo voices prerender                              # fill the phrase cache from scenarios
cuckoo models download vosk-small-ru                 # stream, verify sha256, unpack
cuckoo models [list] [--json]                        # what is installed, what can be fetched
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from cuckoo import config
from cuckoo.cli.output import add_json_flag, emit_json, note, show_table, wants_json
from cuckoo.dialog import static_phrases
from cuckoo.errors import InputError, TtsError
from cuckoo.speech.models import CATALOG, download, installed
from cuckoo.speech.normalize import normalize
from cuckoo.speech.stress import stress_available
from cuckoo.speech.tts import build_synthesizer, choose_voice, load_profiles, unavailable_reason
from cuckoo.speech.tts.synth import load_lexicon, stress_placer


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

    voices = sub.add_parser(
        "voices", help="voice profiles: list (also with no action), prerender the phrase cache"
    )
    add_json_flag(voices)
    voices.set_defaults(func=handle_voices_list)
    vsub = voices.add_subparsers(dest="voices_command", metavar="ACTION")
    vl = vsub.add_parser("list", help="profiles, whether each can speak here, the default")
    add_json_flag(vl, inherit=True)
    vl.set_defaults(func=handle_voices_list)
    vp = vsub.add_parser("prerender", help="synthesize every static phrase of every scenario")
    vp.add_argument("--voice", help="voice profile name (default: [speech] voice or automatic)")
    vp.add_argument("--rate", type=int, default=8000, help="sample rate in Hz (default 8000)")
    vp.set_defaults(func=handle_voices_prerender)

    models = sub.add_parser("models", help="speech models: download, list (also with no action)")
    add_json_flag(models)
    models.set_defaults(func=handle_models_list)
    msub = models.add_subparsers(dest="models_command", metavar="ACTION")
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
    add_json_flag(ml, inherit=True)
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
        spoken = normalize(load_lexicon(cfg, profile).apply(args.text))
        placer = stress_placer(profile)  # the profile's stress marks, where it reads them
        print(placer(spoken) if placer is not None else spoken)
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
    voices_dir = cfg.path(cfg.voices_dir)
    profiles = load_profiles(voices_dir)
    try:
        default, why = choose_voice(cfg, profiles, None)
        default_name = default.name
    except Exception as e:  # no voice at all: still list them
        default_name, why = "", str(e)
    voices: list[dict[str, object]] = []
    rows: list[list[str]] = []
    no_stress = stress_available()
    for name, p in sorted(profiles.items()):
        reason = unavailable_reason(cfg, p)
        voices.append(
            {
                "name": name,
                "default": name == default_name,
                "engine": p.engine,
                "speaker": p.speaker,
                "ready": reason is None,
                "unavailable_reason": reason,
                "license": p.license,
                "non_commercial": p.non_commercial,
                "stress": p.stress,
                "stress_unavailable_reason": no_stress if p.stress != "off" else None,
            }
        )
        rows.append(
            [
                "*" if name == default_name else "",
                name,
                p.engine,
                p.speaker,
                "ready" if reason is None else reason,
                p.license + (" — not for business use" if p.non_commercial else ""),
            ]
        )
    if wants_json(args):
        document = {"voices_dir": voices_dir, "default": default_name or None}
        emit_json({**document, "default_reason": why, "voices": voices})
        return 0
    headers = ["default", "name", "engine", "speaker", "status", "license"]
    show_table(headers, rows, title=f"voices in {voices_dir}", no_wrap=["name"])
    note(f"default: {default_name or 'none'} ({why})")
    if no_stress and any(p.stress != "off" for p in profiles.values()):
        note(f"stress marks on names and homographs are off: {no_stress}")
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
    names = {m.name for m in found}
    missing = [spec for spec in CATALOG.values() if spec.name not in names]
    if wants_json(args):
        emit_json(
            {
                "models_dir": models_dir,
                "installed": [
                    {
                        "name": m.name,
                        "kind": m.kind,
                        "language": m.language or None,
                        "size_bytes": m.size_bytes,
                        "source": m.source,
                        "path": m.path,
                    }
                    for m in found
                ],
                "available": [
                    {
                        "name": spec.name,
                        "kind": spec.kind,
                        "language": spec.language,
                        "size_bytes": spec.size_bytes,
                        "license": spec.license,
                        "sha256": spec.sha256,
                        "url": spec.url,
                        "note": spec.note,
                    }
                    for spec in missing
                ],
            }
        )
        return 0
    # One table of both, so that a pipe gets one header and rows to cut: "where" is the
    # path of an installed model ("from": models_dir or a pip package), the URL of the others.
    rows = [
        [m.name, "installed", m.kind, m.language or "?", _mb(m.size_bytes), m.source, str(m.path)]
        for m in found
    ]
    for spec in missing:
        pin = "sha256 pinned" if spec.sha256 else "no sha256 pin"
        rows.append(
            [
                spec.name,
                "available",
                spec.kind,
                spec.language,
                _mb(spec.size_bytes),
                f"{spec.license} ({pin})" + (f"; {spec.note}" if spec.note else ""),
                spec.url,
            ]
        )
    headers = ["name", "state", "kind", "language", "size", "from", "where"]
    show_table(headers, rows, title=f"speech models (models_dir: {models_dir})", no_wrap=["name"])
    if not found:
        note(f"no speech models installed in {models_dir}")
    if missing:
        note("get an available one with `cuckoo models download NAME`")
    return 0


def _mb(size: int | None) -> str:
    return f"{size / 1e6:.0f} MB" if size else "?"
