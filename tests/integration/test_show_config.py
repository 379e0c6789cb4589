"""`cuckoo check --show-config` and CUCKOO_ variables, as an admin runs them: the real entry
point in a subprocess, a real cuckoo.toml, a real secret file, a real environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TOML = """\
var_dir = "var"
[store]
url_file = "secrets/store-url"
[telephony.trunk]
domain = "pbx.local"
password = "trunk-secret-1"
[sms.gateways.smsc]
type = "smpp"
password_env = "T_SMPP_PW"
[adapters.shop]
type = "sql"
url = "postgresql+psycopg://erp:erp-secret-3@erp.local/shop"
"""


def cuckoo(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CUCKOO_")}
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def project(tmp_path: Path) -> Path:
    (tmp_path / "cuckoo.toml").write_text(TOML, encoding="utf-8")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "store-url").write_text("sqlite:///store-secret-2.db\n")
    return tmp_path


def test_show_config_names_every_source_and_masks_secrets(tmp_path: Path) -> None:
    project(tmp_path)
    r = cuckoo(
        tmp_path,
        "check",
        "--show-config",
        T_SMPP_PW="smpp-secret-4",
        CUCKOO_SCHEDULER__POLL_INTERVAL_S="7",
        CUCKOO_LOG__FORMAT="json",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    for secret in ("trunk-secret-1", "store-secret-2", "erp-secret-3", "smpp-secret-4"):
        assert secret not in out + r.stderr
    lines = {line.split(" = ")[0]: line for line in out.splitlines() if " = " in line}
    assert lines["poll_interval_s"].startswith("poll_interval_s = 7.0")
    assert lines["poll_interval_s"].endswith("# env CUCKOO_SCHEDULER__POLL_INTERVAL_S")
    assert lines["format"].endswith("# env CUCKOO_LOG__FORMAT")
    assert lines["domain"].endswith("# cuckoo.toml:5")
    assert lines["var_dir"].endswith("# cuckoo.toml:1")
    assert lines["dispatch_interval_s"].endswith("# default")
    assert "[telephony.trunk]" in out
    section = out.split("[telephony.trunk]")[1]
    assert 'password = "***"' in section.split("[")[0]
    url = next(line for line in out.splitlines() if line.startswith('url = "postgresql'))
    assert "erp:***@erp.local" in url


def test_show_config_json(tmp_path: Path) -> None:
    project(tmp_path)
    r = cuckoo(tmp_path, "check", "--show-config", "--json", T_SMPP_PW="smpp-secret-4")
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {row["key"]: row for row in json.loads(r.stdout)}
    assert rows["store.url"] == {
        "key": "store.url",
        "value": "***",
        "source": f"file {tmp_path / 'secrets' / 'store-url'}",
    }
    assert rows["sms.gateways.smsc.password"]["source"] == "env T_SMPP_PW"
    assert rows["sms.gateways.smsc.password"]["value"] == "***"
    assert rows["store.busy_timeout_ms"] == {
        "key": "store.busy_timeout_ms",
        "value": 10000,
        "source": "default",
    }


def test_a_bad_variable_fails_check_naming_it(tmp_path: Path) -> None:
    project(tmp_path)
    r = cuckoo(tmp_path, "check", T_SMPP_PW="x", CUCKOO_SCHEDULER__POLL_INTERVAL_S="soon")
    assert r.returncode == 1
    assert "env CUCKOO_SCHEDULER__POLL_INTERVAL_S: [scheduler.poll_interval_s]" in r.stdout
    r = cuckoo(tmp_path, "check", "--show-config", T_SMPP_PW="x", CUCKOO_LOG__LEVEL="loud")
    assert r.returncode == 1
    assert "env CUCKOO_LOG__LEVEL: [log.level]" in r.stdout
