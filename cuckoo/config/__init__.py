"""cuckoo.toml → one validated, frozen `Config`. The only place that reads the file.

`CUCKOO_…` environment variables override its keys (config/environment.py). Errors name the
file, the TOML key path and, where it can be found, the line — or the variable that set it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cuckoo.config import environment
from cuckoo.config.adapters import AdapterSettings
from cuckoo.config.log import LogSettings
from cuckoo.config.policy import PolicySettings
from cuckoo.config.scheduler import SchedulerSettings
from cuckoo.config.secrets import secret_path
from cuckoo.config.sms import SmsSettings
from cuckoo.config.speech import SpeechSettings
from cuckoo.config.store import StoreSettings
from cuckoo.config.telephony import TelephonySettings
from cuckoo.config.web import WebSettings
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
    log: LogSettings = LogSettings()
    web: WebSettings = WebSettings()
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


@dataclass(frozen=True)
class Loaded:
    """A config and where each of its values came from (`cuckoo check --show-config`)."""

    config: Config
    source: str  # the file's name; "" when there is none
    text: str  # the file's text
    data: dict[str, Any]  # the file's keys and the environment's, as validated
    set_by: Mapping[tuple[str, ...], str]  # key path → the CUCKOO_ variable that set it

    def origin(self, path: tuple[str, ...]) -> str:
        """`env CUCKOO_X`, `file /path` (a `*_file` secret), `cuckoo.toml:LINE` or `default`."""
        for p, var in self.set_by.items():
            if path[: len(p)] == p:
                return f"env {var}"
        table = self._table(path[:-1])
        name = path[-1]
        if isinstance(table, dict):
            if name not in table:  # a secret the loader read from a file or a variable
                file, env = table.get(name + "_file"), table.get(name + "_env")
                if isinstance(file, str) and file:
                    return f"file {secret_path(file, self.config.base_dir)}"
                if isinstance(env, str) and env:
                    return f"env {env}"
            elif self.source:
                line = _line_of(self.text, path)
                return f"{self.source}:{line}" if line else self.source
        return "default"

    def _table(self, path: tuple[str, ...]) -> Any:
        node: Any = self.data
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node


def parse(
    text: str,
    *,
    source: str = "cuckoo.toml",
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """The config of a cuckoo.toml text with the CUCKOO_ variables of `environ` (default: the
    process's environment) on top."""
    return parse_traced(text, source=source, base_dir=base_dir, environ=environ).config


def parse_traced(
    text: str,
    *,
    source: str = "cuckoo.toml",
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Loaded:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from e
    found = environment.overrides(os.environ if environ is None else environ, Config)
    data, set_by = environment.apply(data, found)
    try:
        base = base_dir or Path(".")  # also where *_file secrets are read from
        config = Config.model_validate({**data, "base_dir": base}, context={"base_dir": base})
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"])
            loc = tuple(str(p).lower() for p in err["loc"] if not isinstance(p, int))
            variables, above = environment.variables_for(loc, set_by)
            line = _line_of(text, tuple(err["loc"])) if source else None
            where = f"{source}:{line}" if line else source
            if variables:
                env = "env " + ", ".join(variables)
                where = f"{env} ({where})" if above and where else env
            problems.append(f"{where}: [{key}] {err['msg']}")
        raise ConfigError("\n".join(problems)) from e
    return Loaded(config, source, text, data, set_by)


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
    """Load the config: explicit path, else $CUCKOO_CONFIG, else ./cuckoo.toml, else defaults;
    CUCKOO_ variables on top."""
    return load_traced(path).config


def load_traced(path: str | Path | None = None) -> Loaded:
    """`load`, keeping where each value came from."""
    p = config_path(path)
    if p is None:
        return parse_traced("", source="")
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read: {e.strerror}") from e
    return parse_traced(text, source=str(p), base_dir=p.resolve().parent)
