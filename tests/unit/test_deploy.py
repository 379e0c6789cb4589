"""deploy/: the systemd unit passes systemd's own checks, and the container files are
well-formed and agree with ./dev and with each other. No container engine runs here, so the
Containerfile and compose.yaml are read, not built."""

from __future__ import annotations

import json
import logging
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from cuckoo.config import parse
from cuckoo.logs import LogSpec, configure

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "cuckoo.service"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
needs_systemd = pytest.mark.skipif(
    not Path(SYSTEMD_ANALYZE).exists(), reason="systemd-analyze is not installed"
)


# ---- the systemd unit --------------------------------------------------------------------------


def unit_settings(text: str) -> dict[str, dict[str, list[str]]]:
    """[section] → key → every value given (systemd allows repeats)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture
def testable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this venv's cuckoo (verify wants a real binary)."""
    cuckoo = Path(sys.executable).parent / "cuckoo"
    assert cuckoo.is_file(), f"{cuckoo}: the cuckoo entry point of this venv"
    text = UNIT.read_text(encoding="utf-8")
    assert "ExecStart=/opt/cuckoo/bin/cuckoo run" in text
    copy = tmp_path / "cuckoo.service"
    copy.write_text(text.replace("/opt/cuckoo/bin/cuckoo", str(cuckoo)), encoding="utf-8")
    return copy


@needs_systemd
def test_systemd_analyze_verify_passes_without_a_warning(testable_unit: Path) -> None:
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(testable_unit)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    # verify exits 0 even for unknown keys or bad values: they only show on stderr
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "")


@needs_systemd
def test_systemd_security_exposure_is_low(testable_unit: Path) -> None:
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=yes", "--no-pager", str(testable_unit)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    m = re.search(r"Overall exposure level for cuckoo\.service: (\d+\.\d+)", done.stdout)
    assert m, done.stdout + done.stderr
    assert float(m.group(1)) <= 2.5, done.stdout  # 1.7 when written; "OK" ends at 3.9


def test_unit_is_a_hardened_notify_service() -> None:
    s = unit_settings(UNIT.read_text(encoding="utf-8"))["Service"]
    one = {k: v[-1] for k, v in s.items()}
    assert one["Type"] == "notify" and one["NotifyAccess"] == "main"
    assert re.fullmatch(r"\d+s?", one["WatchdogSec"])
    assert one["Restart"] == "on-failure"
    assert (one["User"], one["Group"]) == ("cuckoo", "cuckoo")
    assert (one["StateDirectory"], one["ConfigurationDirectory"]) == ("cuckoo", "cuckoo")
    assert "CUCKOO_CONFIG=/etc/cuckoo/cuckoo.toml" in one["Environment"].split()
    assert one["CapabilityBoundingSet"] == ""  # no capabilities at all
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "SystemCallFilter": "@system-service",
    }.items():
        assert one[key] == value, key
    assert set(one["RestrictAddressFamilies"].split()) == {
        "AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK",
    }  # fmt: skip


@pytest.mark.skipif(not shutil.which("systemd-sysusers"), reason="no systemd-sysusers")
def test_sysusers_file_makes_the_user() -> None:
    done = subprocess.run(
        ["systemd-sysusers", "--dry-run", str(DEPLOY / "cuckoo.sysusers")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ignoring" not in done.stderr.lower()
    try:
        pwd.getpwnam("cuckoo")
    except KeyError:  # not there yet: the dry run says it would make it
        assert "Creating user 'cuckoo'" in done.stderr


# ---- the Containerfile -------------------------------------------------------------------------

INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = pending + line
        pending = ""
        word, _, args = whole.partition(" ")
        out.append((word, args.strip()))
    assert not pending, "the Containerfile ends in a continuation line"
    return out


CONTAINER = instructions((DEPLOY / "Containerfile").read_text(encoding="utf-8"))


def dev_array(name: str) -> list[str]:
    """A bash array of ./dev, as bash itself reads it."""
    lines = [
        ln
        for ln in (ROOT / "dev").read_text(encoding="utf-8").splitlines()
        if re.match(r"(RUNTIME_APT_PACKAGES|APT_PACKAGES|RHVOICE_PACKAGES)=\(", ln)
    ]
    script = "\n".join(lines) + f'\nprintf "%s\\n" "${{{name}[@]}}"'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return done.stdout.split()


def apt_installs(run: str) -> list[list[str]]:
    """The package names of each `apt-get install` in a RUN line (options dropped)."""
    found = []
    for command in run.split("&&"):
        words = shlex.split(command)
        if words[:2] != ["apt-get", "install"]:
            continue
        names, skip = [], False
        for w in words[2:]:
            if skip:
                skip = False
            elif w in ("-t", "--target-release"):
                skip = True
            elif not w.startswith("-"):
                names.append(w)
        found.append(names)
    return found


def test_containerfile_instructions_are_well_formed() -> None:
    assert CONTAINER[0][0] == "FROM" and CONTAINER[0][1].startswith("debian:bookworm")
    assert all(word in INSTRUCTIONS for word, _ in CONTAINER), [w for w, _ in CONTAINER]
    last = {word: args for word, args in CONTAINER}
    assert json.loads(last["CMD"]) == ["cuckoo", "run"]
    assert json.loads(last["VOLUME"]) == ["/var/lib/cuckoo"]
    assert last["USER"] == "cuckoo"
    for word, args in CONTAINER:
        if word == "COPY":  # every source exists in the build context (the repo's root)
            *sources, _dest = shlex.split(args)
            missing = [s for s in sources if not (ROOT / s).exists()]
            assert missing == [], missing
    runs = " ".join(args for word, args in CONTAINER if word == "RUN")
    assert "cuckoo init /etc/cuckoo --state-dir /var/lib/cuckoo" in runs
    assert "ENV" in last and "CUCKOO_CONFIG=/etc/cuckoo/cuckoo.toml" in last["ENV"]


def test_containerfile_installs_what_dev_installs() -> None:
    runs = [args for word, args in CONTAINER if word == "RUN"]
    installs = [names for run in runs for names in apt_installs(run)]
    assert len(installs) == 2, installs
    main, backports = installs
    base = {"python3", "python3-venv", "ca-certificates"}  # ./dev runs on a machine that has them
    assert set(main) - base == set(dev_array("RUNTIME_APT_PACKAGES"))
    assert set(backports) == set(dev_array("RHVOICE_PACKAGES"))
    assert set(dev_array("RUNTIME_APT_PACKAGES")) <= set(dev_array("APT_PACKAGES"))
    # the same non-free source as ./dev writes on bookworm, and only that component
    assert "bookworm-backports non-free" in " ".join(runs)
    assert "-t bookworm-backports librhvoice5" in " ".join(" ".join(runs).split())
    assert "bookworm) suite=bookworm-backports" in (ROOT / "dev").read_text(encoding="utf-8")


# ---- compose.yaml ------------------------------------------------------------------------------

COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_services_volumes_and_healthchecks() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"db", "migrate", "cuckoo"}
    db, migrate, cuckoo = services["db"], services["migrate"], services["cuckoo"]
    assert db["image"].split("/")[-1].startswith("postgres:")
    assert "pg_isready" in db["healthcheck"]["test"]
    assert db["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert migrate["command"] == ["cuckoo", "db", "upgrade"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert cuckoo["command"] == ["cuckoo", "run"]
    assert cuckoo["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert cuckoo["healthcheck"]["test"] == ["CMD", "cuckoo", "status"]
    assert cuckoo["image"] == migrate["image"]
    build = cuckoo["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Containerfile")

    declared_volumes = set(COMPOSE["volumes"])
    declared_secrets = COMPOSE["secrets"]
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source}"
            else:
                assert source in declared_volumes, f"{name}: undeclared volume {source}"
        for secret in service.get("secrets", []):
            assert secret in declared_secrets, f"{name}: undeclared secret {secret}"
    assert "state:/var/lib/cuckoo" in cuckoo["volumes"]  # the Containerfile's VOLUME
    assert {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])} >= (
        declared_volumes
    )


def test_compose_config_reads_the_store_url_from_the_secret(tmp_path: Path) -> None:
    cuckoo = COMPOSE["services"]["cuckoo"]
    (mount,) = [v for v in cuckoo["volumes"] if v.endswith(":/etc/cuckoo/cuckoo.toml:ro")]
    text = (DEPLOY / mount.split(":")[0]).read_text(encoding="utf-8")
    url_file = tomllib.loads(text)["store"]["url_file"]
    assert url_file == f"/run/secrets/{cuckoo['secrets'][0]}"
    # the file as cuckoo reads it, with the secret in a temp file instead of /run/secrets
    secret = tmp_path / "cuckoo_store_url"
    secret.write_text("postgresql+psycopg://cuckoo:pw@127.0.0.1:55432/cuckoo\n", encoding="utf-8")
    config = parse(text.replace(url_file, str(secret)), base_dir=Path("/etc/cuckoo"))
    assert config.store.url == "postgresql+psycopg://cuckoo:pw@127.0.0.1:55432/cuckoo"
    assert config.path(config.var_dir) == Path("/var/lib/cuckoo")
    assert "127.0.0.1:55432:5432" in COMPOSE["services"]["db"]["ports"]


# ---- logrotate ---------------------------------------------------------------------------------

LOGROTATE = shutil.which("logrotate", path="/usr/sbin:/sbin:/usr/bin") or "/usr/sbin/logrotate"


@pytest.mark.skipif(not Path(LOGROTATE).exists(), reason="logrotate is not installed")
def test_logrotate_rotates_the_log_and_cuckoo_writes_on_into_a_new_file(tmp_path: Path) -> None:
    log_file = tmp_path / "cuckoo.log"
    me = pwd.getpwuid(os.getuid()).pw_name
    conf = (DEPLOY / "cuckoo.logrotate").read_text(encoding="utf-8")
    assert "/var/lib/cuckoo/cuckoo.log {" in conf
    # the shipped rules, on a temp file and owned by whoever runs the test
    conf = conf.replace("/var/lib/cuckoo/cuckoo.log", str(log_file))
    conf = conf.replace("cuckoo cuckoo", f"{me} {me}")
    (tmp_path / "logrotate.conf").write_text(conf, encoding="utf-8")

    configure(LogSpec(format="json", file=str(log_file)))
    try:
        logging.getLogger("cuckoo.test").info("before the rotation")
        done = subprocess.run(
            [LOGROTATE, "-f", "-s", str(tmp_path / "state"), str(tmp_path / "logrotate.conf")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        logging.getLogger("cuckoo.test").info("after the rotation")
    finally:
        configure(LogSpec())
    rotated = tmp_path / "cuckoo.log.1"  # delaycompress: the newest rotation stays plain
    assert "before the rotation" in rotated.read_text(encoding="utf-8")
    lines = [json.loads(x) for x in log_file.read_text(encoding="utf-8").splitlines()]
    assert [x["message"] for x in lines] == ["after the rotation"]
    assert log_file.stat().st_mode & 0o777 == 0o600
