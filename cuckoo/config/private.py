"""Files that hold customer data or secrets (the SQLite store, call recordings, the phrase
cache with customers' names and sums): cuckoo creates them for its own user only — folders
0700, files 0600 — whatever the umask. Existing files and folders keep the modes the admin
gave them."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | Path) -> Path:
    """Make `path` and each missing parent with mode 0700; an existing folder is left alone."""
    path = Path(path)
    missing: list[Path] = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process
        os.chmod(d, DIR_MODE)  # mkdir's mode is cut by the umask; this one is exact
    return path


def private_file(path: str | Path) -> Path:
    """Create `path` empty with mode 0600 unless it exists (its folder too, 0700)."""
    path = Path(path)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path
