"""Stress placement figures: silero-stress through cuckoo.speech.stress on the blind set
tests/data/stress_blind.tsv (names, patronymics, surnames, homographs in context; written by
hand before the placer ran on it).

    .venv/bin/python benchmarks/stress.py

For each class: how many target words get the right stress in mode "all" (every word marked),
and in mode "names" (what the RHVoice profiles use) how many targets are marked at all and how
many of those marks are right; then the model's load time and the time per sentence.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuckoo.speech.stress import SileroStress, stress_available  # noqa: E402

BLIND = ROOT / "tests" / "data" / "stress_blind.tsv"


def load_set(path: Path = BLIND) -> list[tuple[str, str, list[str]]]:
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cls, sentence, targets = line.split("\t")
        rows.append((cls, sentence, targets.split(",")))
    return rows


def placed(output: str, target: str) -> str | None:
    """The output's word that is `target` up to marks, case and ё (None: not there)."""
    plain = target.replace("+", "").lower().replace("ё", "е")
    for word in output.replace(",", " ").replace(".", " ").replace("«", " ").split():
        word = word.strip("»?!")
        if word.replace("+", "").lower().replace("ё", "е") == plain:
            return word
    return None


def right(word: str | None, target: str) -> bool:
    """Same stressed vowel: the marks agree, or ё carries it and no other mark contradicts."""
    if word is None:
        return False
    w, t = word.lower(), target.lower()
    if w.replace("ё", "е") == t.replace("ё", "е"):
        return True
    # «Ф+ёдоров» vs «Фёдоров»: ё is always stressed
    return "+" not in w and "ё" in w and t.replace("+", "") == w


def main() -> int:
    why = stress_available()
    if why:
        print(f"stress placement not measured: {why}")
        return 1
    rows = load_set()
    t0 = time.perf_counter()
    every, names = SileroStress("all"), SileroStress("names")
    every("Загрузка.")
    load_s = time.perf_counter() - t0
    score: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    times: list[float] = []
    misses: list[str] = []
    for cls, sentence, targets in rows:
        t = time.perf_counter()
        out_all = every(sentence)
        times.append((time.perf_counter() - t) * 1000)
        out_names = names(sentence)
        for target in targets:
            s = score[cls]
            s[0] += 1
            ok = right(placed(out_all, target), target)
            s[1] += ok
            if not ok:
                misses.append(f"{cls}: {target} ← {placed(out_all, target)} ({sentence})")
            got = placed(out_names, target)
            if got is not None and ("+" in got or "ё" in got.lower()):
                s[2] += 1
                s[3] += right(got, target)
    print(f"blind set: {BLIND.relative_to(ROOT)}, {len(rows)} sentences")
    print(
        f"{'class':<10} {'targets':>7} {'all: right':>11} {'names: marked':>14} "
        f"{'of them right':>14}"
    )
    total = [0, 0, 0, 0]
    for cls in ("name", "surname", "homograph"):
        n, ok, marked, marked_ok, _ = score[cls]
        for i, v in enumerate((n, ok, marked, marked_ok)):
            total[i] += v
        print(f"{cls:<10} {n:>7} {ok:>5} {ok / n:>5.0%} {marked:>8} {marked / n:>5.0%} "
              f"{marked_ok:>8} {marked_ok / max(marked, 1):>5.0%}")  # fmt: skip
    n, ok, marked, marked_ok = total
    print(f"{'all':<10} {n:>7} {ok:>5} {ok / n:>5.0%} {marked:>8} {marked / n:>5.0%} "
          f"{marked_ok:>8} {marked_ok / max(marked, 1):>5.0%}")  # fmt: skip
    times.sort()
    print(
        f"load {load_s:.1f} s; per sentence median {statistics.median(times):.1f} ms, "
        f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, max {times[-1]:.1f} ms"
    )
    if misses:
        print("misses (mode all):")
        for m in misses:
            print("  " + m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
