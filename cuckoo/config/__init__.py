"""cuckoo.toml → one validated, frozen `Config`. The only place that reads the file.

Errors name the file, the TOML key path and, where it can be found, the line.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cuckoo.config.adapters import AdapterSettings
from cuckoo.config.policy import PolicySettings
from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.config.sms import SmsSettings
from cuckoo.config.speech import SpeechSettings
from cuckoo.config.store import StoreSettings
from cuckoo.config.telephony import TelephonySettings
from cuckoo.errors import ConfigError

DEFAULT_PATH = Path("cuckoo.toml")
ENV_PATH = "CUCKOO_CONFIG"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Where relative paths in the file (scenarios, voices, models, var) are resolved from.
    base_dir: Path = Field(default=Path("."), exclude=True)
    scenarios_dir: Path = Path("scenarios")
    voices_dir: Path = Path("voices")
    models_dir: Path = Path("var/models")
    var_dir: Path = Path("var")

    store: StoreSettings = StoreSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    policy: PolicySettings = PolicySettings()
    speech: SpeechSettings = SpeechSettings()
    telephony: TelephonySettings = TelephonySettings()
    sms: SmsSettings = SmsSettings()
    adapters: dict[str, AdapterSettings] = {}

    def path(self, p: Path | str) -> Path:
        """A path from the config, resolved against the config file's folder."""
        p = Path(p)
        return p if p.is_absolute() else self.base_dir / p


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line of a key path in TOML text: the key's own table header, else the last
    key's assignment in its table, else that table's header (a missing key). Good enough to
    point an admin at the right place."""
    keys = [str(k) for k in loc if not isinstance(k, int)]
    if not keys:
        return None
    lines = text.splitlines()
    any_header = re.compile(r"^\s*\[")

    def header_line(names: list[str]) -> int | None:
        header = re.compile(r"^\s*\[+\s*" + re.escape(".".join(names)) + r"\s*\]+")
        return next((i for i, line in enumerate(lines) if header.match(line)), None)

    own = header_line(keys)
    if own is not None:
        return own + 1
    parent = None  # the deepest enclosing table that has a header
    for depth in range(len(keys) - 1, 0, -1):
        parent = header_line(keys[:depth])
        if parent is not None:
            break
    key = re.compile(r"^\s*[\"']?" + re.escape(keys[-1]) + r"[\"']?\s*=")
    start = 0 if parent is None else parent + 1
    for i in range(start, len(lines)):
        if any_header.match(lines[i]):
            break  # the next table: the key is not in this one
        if key.match(lines[i]):
            return i + 1
    return None if parent is None else parent + 1


def parse(text: str, *, source: str = "cuckoo.toml", base_dir: Path | None = None) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from e
    try:
        base = base_dir or Path(".")  # also where *_file secrets are read from
        return Config.model_validate({**data, "base_dir": base}, context={"base_dir": base})
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"])
            line = _line_of(text, tuple(err["loc"]))
            where = f"{source}:{line}" if line else source
            problems.append(f"{where}: [{key}] {err['msg']}")
        raise ConfigError("\n".join(problems)) from e


def config_path(path: str | Path | None = None) -> Path | None:
    """The file `load` reads: explicit path, else $CUCKOO_CONFIG, else ./cuckoo.toml if there
    is one; None means no file (the defaults)."""
    if path is None:
        path = os.environ.get(ENV_PATH) or (DEFAULT_PATH if DEFAULT_PATH.exists() else None)
    return None if path is None else Path(path)


_KEY_PATH = re.compile(r"^\[([^\]\s]+)\]")


def locate(message: str, path: str | Path | None) -> str:
    """Point problems found after loading (an adapter's options) at the file: every line of
    `message` that starts with a "[key.path]" gets "FILE:LINE: " (or "FILE: ") in front."""
    if path is None:
        return message
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        text = ""
    out = []
    for problem in message.splitlines():
        m = _KEY_PATH.match(problem)
        if m:
            loc = tuple(int(k) if k.isdigit() else k for k in m.group(1).split("."))
            line = _line_of(text, loc)
            problem = f"{path}:{line}: {problem}" if line else f"{path}: {problem}"
        out.append(problem)
    return "\n".join(out)


def load(path: str | Path | None = None) -> Config:
    """Load the config: explicit path, else $CUCKOO_CONFIG, else ./cuckoo.toml, else defaults."""
    p = config_path(path)
    if p is None:
        return Config()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read: {e.strerror}") from e
    return parse(text, source=str(p), base_dir=p.resolve().parent)
