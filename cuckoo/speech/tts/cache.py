"""Phrase cache: synthesized audio keyed by (engine, voice, normalized text, rate).

One raw file per phrase under var_dir/cache/tts/<2 hex>/<sha256>.pcm holding a tiny header
("CKO1", rate) and the int16 PCM — a hit is one small read, well under a millisecond on a warm
page cache. Writes go to a temp file in the same folder and are renamed into place, so a
concurrent reader sees the whole phrase or nothing, and a crash leaves no half file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path

from cuckoo.config.private import private_dir
from cuckoo.line.audio import Audio

MAGIC = b"CKO1"
HEADER = struct.Struct("<4sI")


def cache_key(engine: str, voice: str, text: str, rate: int) -> str:
    raw = json.dumps([engine, voice, text, rate], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class PhraseCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pcm"

    def get(self, key: str) -> Audio | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        with contextlib.suppress(OSError):  # mark as recently used for prune()
            os.utime(path)
        if len(data) < HEADER.size:
            return None
        magic, rate = HEADER.unpack_from(data)
        if magic != MAGIC:
            return None
        return Audio(data[HEADER.size :], rate)

    def put(self, key: str, audio: Audio) -> None:
        path = self._path(key)
        private_dir(path.parent)  # phrases hold customers' names and sums; mkstemp: 0600
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pcm")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(HEADER.pack(MAGIC, audio.rate))
                f.write(audio.pcm)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def prune(self, max_bytes: int) -> int:
        """Delete the least recently used phrases until the cache holds at most
        `max_bytes`; returns how many files went. Rendered texts with customer data (names,
        sums) are cached too and rarely repeat, so the cache must not grow without bound."""
        if not self.root.is_dir():
            return 0
        files = []
        for p in self.root.glob("*/*.pcm"):
            try:
                st = p.stat()
            except OSError:  # removed meanwhile by another process
                continue
            files.append((st.st_mtime, st.st_size, p))
        total = sum(size for _, size, _ in files)
        removed = 0
        for _, size, p in sorted(files):
            if total <= max_bytes:
                break
            p.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed

    def __contains__(self, key: str) -> bool:
        return self._path(key).is_file()

    def count(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.pcm")) if self.root.is_dir() else 0
