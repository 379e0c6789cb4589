"""Precision and recall of the early-media detector (cuckoo.telephony.early) and the after-answer
answering-machine detector (cuckoo.telephony.amd) on the labelled synthesized set of
tests/early_samples.py.

    .venv/bin/python benchmarks/early_media.py            # the tune part
    .venv/bin/python benchmarks/early_media.py --blind    # the blind part (score it once)
    .venv/bin/python benchmarks/early_media.py -v         # and every miss

Early media: each sample is fed in 20 ms frames until the decision is final (SIT,
announcement) or the audio ends; silence and undecided count as "none". SIT variants are
scored apart (of the SITs found, how many have the right variant).
After the answer: fed until the detector has nothing more to learn (as SipLine does); then once
more with the transcript a perfect recognizer would give (the text spoken), which shows what
`note_transcript` adds and whether it ever takes a person for a machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from amd_samples import HUMAN_TEXTS, VOICEMAIL_TEXTS, frames  # noqa: E402
from early_samples import (  # noqa: E402
    ASSISTANTS,
    BLIND_ASSISTANTS,
    BLIND_HUMAN,
    HOLDOUT_ASSISTANTS,
    HOLDOUT_HUMAN,
    HOLDOUT_VOICEMAIL,
    Sample,
    samples,
)

from cuckoo.config.telephony import AmdSettings  # noqa: E402
from cuckoo.telephony.amd import AnsweringMachineDetector, Verdict  # noqa: E402
from cuckoo.telephony.early import EarlyKind, EarlyMediaDetector  # noqa: E402

TEXTS = {
    **HUMAN_TEXTS,
    **BLIND_HUMAN,
    **HOLDOUT_HUMAN,
    **VOICEMAIL_TEXTS,
    **HOLDOUT_VOICEMAIL,
    **ASSISTANTS,
    **BLIND_ASSISTANTS,
    **HOLDOUT_ASSISTANTS,
}


def early_verdict(x: np.ndarray, settings: AmdSettings) -> tuple[str, EarlyMediaDetector]:
    d = EarlyMediaDetector(settings)
    for f in frames(x):
        if d.feed(f).final:
            break
    kind = d.decision.kind
    label = "none" if kind in (EarlyKind.SILENCE, EarlyKind.UNDECIDED) else kind.value
    return label, d


def amd_verdict(
    x: np.ndarray, settings: AmdSettings, transcript: str | None = None
) -> tuple[str, AnsweringMachineDetector]:
    d = AnsweringMachineDetector(settings)
    heard = False
    for f in frames(x):
        d.feed(f)
        if transcript is not None and not heard and not d.greeting_open and d.words:
            # a recognizer's final comes at the end of the greeting's first utterance
            heard = True
            d.note_transcript(transcript)
        if d.done and (d.verdict != Verdict.MACHINE or d.ready):
            break
    if transcript is not None and not heard:
        d.note_transcript(transcript)
    return d.verdict.value, d


def table(name: str, pairs: list[tuple[str, str]], classes: list[str]) -> None:
    """Precision and recall per class of (expected, got) pairs, and the confusion."""
    print(f"\n{name}: {len(pairs)} samples")
    print(f"  {'class':<14}{'n':>4}{'precision':>11}{'recall':>8}   got")
    for c in classes:
        tp = sum(1 for e, g in pairs if e == c and g == c)
        n_exp = sum(1 for e, _ in pairs if e == c)
        n_got = sum(1 for _, g in pairs if g == c)
        prec = f"{tp / n_got:.3f}" if n_got else "—"
        rec = f"{tp / n_exp:.3f}" if n_exp else "—"
        got = Counter(g for e, g in pairs if e == c)
        print(f"  {c:<14}{n_exp:>4}{prec:>11}{rec:>8}   {dict(got)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blind", action="store_true", help="score the blind part")
    ap.add_argument("--holdout", action="store_true", help="score the holdout part (once)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = ap.parse_args()
    split = "holdout" if args.holdout else "blind" if args.blind else "tune"
    settings = AmdSettings(early_announcements=True)
    chosen: list[Sample] = []
    skipped = 0
    for s in samples():
        if s.split != split:
            continue
        if not s.available:
            skipped += 1
            continue
        chosen.append(s)
    t0 = time.monotonic()
    early: list[tuple[str, str]] = []
    variants = Counter[str]()
    decided_s: list[float] = []
    amd: list[tuple[str, str]] = []
    amd_tx: list[tuple[str, str]] = []
    misses: list[str] = []
    for s in chosen:
        x = s.audio()
        if s.early is not None:
            got, d = early_verdict(x, settings)
            early.append((s.early, got))
            if got != s.early:
                misses.append(f"early {s.id}: want {s.early}, got {got} ({d.decision.reason})")
            if s.early == "sit" and got == "sit" and d.decision.sit is not None:
                ok = d.decision.sit.variant == s.sit
                variants["right" if ok else "wrong"] += 1
                decided_s.append(d.decision.at_s)
                if not ok:
                    misses.append(f"variant {s.id}: got {d.decision.reason}")
        if s.amd is not None:
            got_a, a = amd_verdict(x, settings)
            amd.append((s.amd, got_a))
            if got_a != s.amd:
                misses.append(f"amd {s.id}: want {s.amd}, got {got_a} ({a.reason})")
            key = next((k for k in TEXTS if f"-{k}-" in f"{s.id}-"), None)
            got_t, at = amd_verdict(x, settings, TEXTS[key] if key else None)
            amd_tx.append((s.amd, got_t))
            if got_t != s.amd and args.verbose:
                misses.append(f"amd+text {s.id}: want {s.amd}, got {got_t} ({at.reason})")
    elapsed = time.monotonic() - t0
    print(f"split: {split}; {len(chosen)} samples ({skipped} skipped: a voice is missing)")
    table("early media", early, ["sit", "ringback", "announcement", "none"])
    if variants:
        total = variants["right"] + variants["wrong"]
        print(
            f"  SIT variant right: {variants['right']}/{total}; decided at "
            f"{np.median(decided_s):.2f} s median (audio time from the start of the media)"
        )
    table("after answer (audio only)", amd, ["human", "machine", "undecided"])
    table("after answer + ideal transcript", amd_tx, ["human", "machine", "undecided"])
    print(f"\n{elapsed:.1f} s (rendering included)")
    if args.verbose and misses:
        print("\nmisses:")
        for m in misses:
            print(f"  {m}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
