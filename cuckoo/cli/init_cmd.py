"""`cuckoo init DIR`: a working configuration to start from.

DIR gets the commented sample cuckoo.toml, the sample scenarios/ and the voices/ profiles; the
data (the SQLite store, the phrase cache, models, recordings) goes to a separate state folder,
which the written cuckoo.toml names as var_dir:
- a system install (run as root, or --system): /var/lib/cuckoo (systemd's StateDirectory=cuckoo);
- a user: $XDG_STATE_HOME/cuckoo, by default ~/.local/state/cuckoo;
- or --state-dir PATH.
The state folder itself is made by `cuckoo db upgrade`, as the user that runs cuckoo.
An existing file is never overwritten without --force.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cuckoo.errors import ConfigError, InputError
from cuckoo.resources import Shipped, shipped

SYSTEM_STATE_DIR = Path("/var/lib/cuckoo")
CONFIG_NAME = "cuckoo.toml"
FOLDERS: tuple[Shipped, ...] = ("scenarios", "voices")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "init",
        help="write a starting configuration: cuckoo.toml, scenarios/, voices/",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="the configuration folder, e.g. /etc/cuckoo")
    who = p.add_mutually_exclusive_group()
    who.add_argument(
        "--system",
        action="store_true",
        help=f"a system install: state in {SYSTEM_STATE_DIR} (the default when run as root)",
    )
    who.add_argument(
        "--user",
        action="store_true",
        help="a user install: state in $XDG_STATE_HOME/cuckoo (the default when not root)",
    )
    p.add_argument("--state-dir", metavar="PATH", help="where the data goes (overrides both)")
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite cuckoo.toml and the shipped scenario and voice files if they exist "
        "(other files in DIR are left alone)",
    )
    p.set_defaults(func=cmd_init)


# ---- pure --------------------------------------------------------------------------------------


def default_state_dir(*, system: bool, env: Mapping[str, str], home: Path) -> Path:
    """/var/lib/cuckoo for a system install; else the XDG state folder (an unset, empty or
    relative $XDG_STATE_HOME is ignored, as the XDG spec says)."""
    if system:
        return SYSTEM_STATE_DIR
    xdg = env.get("XDG_STATE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "state"
    return base / "cuckoo"


def config_text(sample: str, state_dir: Path) -> str:
    """The sample cuckoo.toml with var_dir and models_dir moved into `state_dir` (absolute)."""
    out = sample
    for key, value in (("var_dir", state_dir), ("models_dir", state_dir / "models")):
        line = re.compile(rf'^{key}\s*=\s*"[^"]*"', re.MULTILINE)
        found = list(line.finditer(out))
        if len(found) != 1:
            raise ConfigError(f"the sample {CONFIG_NAME} has no single top-level `{key} = ...`")
        start, end = found[0].span()
        # json.dumps: a TOML basic string (quotes and backslashes escaped)
        out = f"{out[:start]}{key} = {json.dumps(str(value))}{out[end:]}"
    return out


def planned_files(target: Path, sources: Mapping[str, Path]) -> dict[Path, Path]:
    """Every file init writes (destination → shipped source), cuckoo.toml excluded."""
    plan: dict[Path, Path] = {}
    for name, folder in sources.items():
        for src in sorted(folder.rglob("*")):
            if src.is_file() and "__pycache__" not in src.parts:
                plan[target / name / src.relative_to(folder)] = src
    return plan


# ---- the command -------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.dir).absolute()
    system = args.system or (not args.user and os.geteuid() == 0)
    if args.state_dir:
        state = Path(args.state_dir).expanduser().absolute()
    else:
        state = default_state_dir(system=system, env=os.environ, home=Path.home())
    config_file = target / CONFIG_NAME
    plan = planned_files(target, {name: shipped(name) for name in FOLDERS})
    existing = [p for p in (config_file, *plan) if p.exists()]
    if existing and not args.force:
        shown = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise InputError(
            f"{shown} exist{'s' if len(existing) == 1 else ''} already; `cuckoo init` does not "
            "overwrite a configuration (--force replaces the shipped files, keeps the others)"
        )
    text = config_text(shipped("cuckoo.toml").read_text(encoding="utf-8"), state)
    target.mkdir(parents=True, exist_ok=True)
    config_file.write_text(text, encoding="utf-8")
    for dst, src in plan.items():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    print(f"wrote {config_file} and {len(plan)} files in {'/, '.join(FOLDERS)}/")
    print(f"data (var_dir): {state}")
    print("next:")
    print(f"  cuckoo -c {config_file} db upgrade    # makes {state} and the store in it")
    print(f"  cuckoo -c {config_file} check")
    return 0
