"""Secrets kept out of cuckoo.toml: a key `X` may instead be given as `X_env` (the name of an
environment variable) or `X_file` (a file holding it, relative to cuckoo.toml's folder; one
trailing newline is dropped). At most one of the three is set; the loader resolves the value
into `X`, so the rest of cuckoo only ever reads `X`.

A settings model opts in with `env_checked` / `file_checked` field validators on its `X_env` /
`X_file` fields (a missing variable or an unreadable file is an error on that key, so its line
in cuckoo.toml is named) and `resolve_secret(self, "X", info)` in an after-model validator.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ValidationInfo


def _base_dir(info: ValidationInfo) -> Path:
    context = info.context if isinstance(info.context, dict) else {}
    base = context.get("base_dir")
    return Path(base) if base is not None else Path(".")


def secret_path(ref: str, base_dir: Path) -> Path:
    """Where an `X_file` points: absolute, or relative to cuckoo.toml's folder."""
    p = Path(ref).expanduser()
    return p if p.is_absolute() else base_dir / p


def env_checked(v: str | None) -> str | None:
    """Field validator body for `X_env`: the variable must be set and not empty."""
    if v is None:
        return None
    if not v:
        raise ValueError("empty: name an environment variable")
    if not os.environ.get(v):
        raise ValueError(f"environment variable {v} is not set (or empty)")
    return v


def _read(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text[:-1] if text.endswith("\n") else text


def file_checked(v: str | None, info: ValidationInfo) -> str | None:
    """Field validator body for `X_file`: the file must be readable and hold something."""
    if v is None:
        return None
    path = secret_path(v, _base_dir(info))
    try:
        value = _read(path).rstrip("\r")
    except FileNotFoundError as e:
        raise ValueError(f"no such file: {path}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e
    if not value:
        raise ValueError(f"{path} is empty")
    return v


def resolve_secret(model: BaseModel, name: str, info: ValidationInfo) -> None:
    """After validation: check that at most one of `name`, `name_env`, `name_file` is set and
    put the value from the environment or the file into `name` (frozen models too)."""
    value = getattr(model, name)
    env = getattr(model, f"{name}_env")
    file = getattr(model, f"{name}_file")
    given = [k for k, v in ((name, value), (f"{name}_env", env), (f"{name}_file", file)) if v]
    if len(given) > 1:
        raise ValueError(f"set only one of {', '.join(given)}")
    if env:
        value = os.environ.get(env, "")
    elif file:
        value = _read(secret_path(file, _base_dir(info))).rstrip("\r")
    else:
        return
    object.__setattr__(model, name, value)
