"""Secrets and private files: the log redaction, `*_env` / `*_file` secrets in cuckoo.toml,
and the modes of what cuckoo creates (store, recordings, phrase cache)."""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cuckoo.cli.logs import RedactingFilter, redact
from cuckoo.config import parse
from cuckoo.config.private import private_dir, private_file
from cuckoo.errors import ConfigError
from cuckoo.line.audio import Audio
from cuckoo.speech.tts.cache import PhraseCache
from cuckoo.store.database import Database
from cuckoo.telephony.session import write_stereo_wav

# ---- redaction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "hidden", "kept"),
    [
        (
            'HTTP Request: GET https://sms.ru/sms/send?api_id=K3Y&to=79123456789&msg=%D0%97 "200"',
            ["K3Y", "%D0%97"],
            ["to=79123456789", "https://sms.ru/sms/send"],
        ),
        ("form login=shop&psw=PW1&mes=Hello+there", ["PW1", "Hello"], ["login=shop"]),
        ('{"token": "T0K", "text": "Привет", "id": 5}', ["T0K", "Привет"], ['"id": 5']),
        ("{'password': 'p@ss', 'phones': '+7912'}", ["p@ss"], ["'phones': '+7912'"]),
        ("postgresql+psycopg://shop:Secr3t@db/erp", ["Secr3t"], ["shop:", "@db/erp"]),
        ("Authorization: Bearer abc.def", ["abc.def"], ["Authorization"]),
        ("X-Api-Key: k-123, sms_id=77", ["k-123"], ["sms_id=77"]),
    ],
)
def test_redact(line: str, hidden: list[str], kept: list[str]) -> None:
    out = redact(line)
    for h in hidden:
        assert h not in out
    for k in kept:
        assert k in out


def test_filter_masks_arguments_and_tracebacks() -> None:
    try:
        raise RuntimeError("GET /status?psw=TRACEBACKSECRET")
    except RuntimeError:
        record = logging.LogRecord(
            "cuckoo.sms", logging.ERROR, __file__, 1, "sent %s", ("msg=hello",), None
        )
        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    assert "hello" not in record.getMessage()
    assert record.exc_text is not None and "TRACEBACKSECRET" not in record.exc_text


# ---- *_env / *_file secrets --------------------------------------------------------------------

TOML = """\
[store]
url_env = "CUCKOO_T_STORE_URL"

[telephony.trunk]
domain = "pbx.local"
password_file = "secrets/trunk.txt"

[sms.gateways.main]
type = "smpp"
password_env = "CUCKOO_T_SMPP"

[sms.gateways.web]
type = "http"
url = "https://example.net/send"
secret_file = "/nonexistent/never"
"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("CUCKOO_T_STORE_URL", "postgresql+psycopg://c:pw@db/c")
    monkeypatch.setenv("CUCKOO_T_SMPP", "smpp-pw")
    yield monkeypatch


def test_secrets_come_from_the_environment_and_files(tmp_path: Path, env: object) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "trunk.txt").write_text("trunk-pw\n", encoding="utf-8")
    (tmp_path / "web.txt").write_text("api-key", encoding="utf-8")
    text = TOML.replace("/nonexistent/never", str(tmp_path / "web.txt"))
    config = parse(text, base_dir=tmp_path)
    assert config.store.url == "postgresql+psycopg://c:pw@db/c"
    assert config.telephony.trunk.password == "trunk-pw"  # relative to cuckoo.toml, \n dropped
    assert config.sms.gateways["main"].password == "smpp-pw"
    web = config.sms.gateways["web"]
    assert getattr(web, "secret", None) == "api-key"
    assert "trunk-pw" not in repr(config) and "api-key" not in repr(config)


def test_missing_secret_sources_name_key_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUCKOO_T_STORE_URL", raising=False)
    monkeypatch.delenv("CUCKOO_T_SMPP", raising=False)
    with pytest.raises(ConfigError) as e:
        parse(TOML, source="cuckoo.toml", base_dir=tmp_path)
    lines = str(e.value).splitlines()
    assert any(
        line.startswith("cuckoo.toml:2: [store.url_env]")
        and "CUCKOO_T_STORE_URL is not set" in line
        for line in lines
    ), lines
    assert any(
        line.startswith("cuckoo.toml:6: [telephony.trunk.password_file]")
        and f"no such file: {tmp_path / 'secrets' / 'trunk.txt'}" in line
        for line in lines
    ), lines
    assert any(line.startswith("cuckoo.toml:10: [sms.gateways.main") for line in lines), lines
    assert any(line.startswith("cuckoo.toml:15: [sms.gateways.web") for line in lines), lines


def test_only_one_source_of_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUCKOO_T_SMPP", "x")
    text = '[telephony.trunk]\npassword = "a"\npassword_env = "CUCKOO_T_SMPP"\n'
    with pytest.raises(ConfigError, match=r"\[telephony.trunk\] .*set only one of password, "):
        parse(text, source="cuckoo.toml")


# ---- private files -------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual umask: group and others could read
    yield
    os.umask(old)


def test_private_dir_and_file(tmp_path: Path, open_umask: None) -> None:
    f = private_file(tmp_path / "a" / "b" / "f.txt")
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
    assert mode(f) == 0o600
    (tmp_path / "mine").mkdir(mode=0o755)
    private_dir(tmp_path / "mine")
    assert mode(tmp_path / "mine") == 0o755  # the admin's own folder is left as it is


def test_store_file_is_private(tmp_path: Path, open_umask: None) -> None:
    db = Database(f"sqlite:///{tmp_path / 'var' / 'cuckoo.sqlite'}")
    try:
        db.upgrade()
    finally:
        db.close()
    assert mode(tmp_path / "var") == 0o700
    for p in (tmp_path / "var").iterdir():  # the database and its -wal / -shm
        assert mode(p) == 0o600, p


def test_phrase_cache_is_private(tmp_path: Path, open_umask: None) -> None:
    cache = PhraseCache(tmp_path / "var" / "cache" / "tts")
    cache.put("ab" + "0" * 30, Audio(b"\0\0" * 80, 8000))
    for p in (tmp_path / "var").rglob("*"):
        assert mode(p) == (0o700 if p.is_dir() else 0o600), p


def test_recordings_are_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "rec" / "1-1.wav"
    write_stereo_wav(path, [b"\1\0" * 160], [b"\2\0" * 160])
    assert mode(tmp_path / "rec") == 0o700
    assert mode(path) == 0o600
    assert path.stat().st_size > 44
