"""`cuckoo call` through a real kamailio registrar/proxy with digest authentication: the robot
REGISTERs (401 challenge), its INVITE is challenged (407) and relayed to the sim-phone; the dial
plan turns +7… into 8…; a wrong password ends as a network (trunk) problem, not the customer's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from telephony_helpers import REPO, SimPhoneProc, find_tool, free_port, kamailio_modules_dir

KAMAILIO = find_tool("kamailio")

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(KAMAILIO is None, reason="kamailio is not installed"),
]

KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
alias="127.0.0.1:{port}"
mpath="{mpath}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
modparam("usrloc", "db_mode", 0)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route() || is_method("ACK|BYE")) {{ t_relay(); exit; }}
        sl_send_reply("404", "Not here"); exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("REGISTER")) {{
        if ($au != "robot" || !pv_www_authenticate("$td", "{password}", "0")) {{
            www_challenge("$td", "0"); exit;
        }}
        save("location"); exit;
    }}
    if (is_method("INVITE")) {{
        if ($au != "robot" || !pv_proxy_authenticate("$fd", "{password}", "0")) {{
            proxy_challenge("$fd", "0"); exit;
        }}
        consume_credentials();
        xlog("L_INFO", "INVITE authorized for $au to $rU\\n");
        record_route();
        $du = "sip:127.0.0.1:{callee_port}";
        t_relay(); exit;
    }}
    sl_send_reply("405", "Method Not Allowed");
}}
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kam")


@pytest.fixture(scope="module")
def phone(workdir: Path) -> Iterator[SimPhoneProc]:
    script = {
        "default": {"answer_after_s": 0.2},
        "users": {
            "89123456789": {"dtmf": [{"at_s": 0.8, "keys": "3"}]},
            "84950000000": {"action": "busy"},
        },
    }
    p = SimPhoneProc(script, workdir)
    yield p
    assert p.stop() == 0


@pytest.fixture(scope="module")
def kamailio(workdir: Path, phone: SimPhoneProc) -> Iterator[int]:
    port = free_port()
    cfg = workdir / "kamailio.cfg"
    cfg.write_text(
        KAMAILIO_CFG.format(
            port=port, password="s3cret", callee_port=phone.port, mpath=kamailio_modules_dir()
        )
    )
    rundir = workdir / "run"
    rundir.mkdir()
    log = open(workdir / "kamailio.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(KAMAILIO), "-f", str(cfg), "-DD", "-E", "-Y", str(rundir), "-m", "32", "-M", "8"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: teardown can stop its children too
    )
    time.sleep(1.5)
    if proc.poll() is not None:
        pytest.fail(f"kamailio did not start: {(workdir / 'kamailio.log').read_text()[-2000:]}")
    yield port
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:  # kamailio's children sometimes linger on SIGTERM
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    log.close()


def _call(
    workdir: Path, kport: int, password: str, number: str, trunk: str | None = None
) -> tuple[dict[str, object], str]:
    toml = workdir / f"cuckoo-{password}.toml"
    trunk = trunk or (
        f'domain = "127.0.0.1:{kport}"\nregistrar = "sip:127.0.0.1:{kport}"\n'
        f'caller_id = "sip:robot@127.0.0.1:{kport}"\n'
    )
    toml.write_text(
        '[telephony]\nbind_host = "127.0.0.1"\nring_timeout_s = 5\nsetup_timeout_s = 3\n'
        "dial_plan = [{ match = '\\+7(\\d{10})', replace = '8\\1' }]\n"
        f'[telephony.trunk]\nusername = "robot"\npassword = "{password}"\n{trunk}'
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "cuckoo.cli.main",
            "-c",
            str(toml),
            "call",
            number,
            "--wav",
            str(workdir / "hello.wav"),
            "--wait-dtmf",
            "3",
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    # `cuckoo call` exits 0 when the call was answered, 3 when it was not
    assert out.returncode == (0 if r["answered_at"] else 3), out.stderr[-3000:]
    return r, out.stderr


@pytest.fixture(scope="module", autouse=True)
def hello(workdir: Path) -> None:
    from cuckoo.speech.tts import espeak_synthesizer

    espeak_synthesizer().synthesize("Здравствуйте").write_wav(workdir / "hello.wav")


def test_digest_auth_register_and_invite(workdir: Path, kamailio: int, phone: SimPhoneProc) -> None:
    r, err = _call(workdir, kamailio, "s3cret", "+79123456789")
    assert "registration failed" not in err  # REGISTER: 401 challenge, then 200
    assert r["outcome"] == "delivered" and r["sip_code"] == 200 and r["dtmf"] == "3", r
    assert phone.wait_event("incoming", user="89123456789")
    log = (workdir / "kamailio.log").read_text()
    assert "INVITE authorized for robot to 89123456789" in log


def test_busy_through_the_proxy(workdir: Path, kamailio: int) -> None:
    r, _ = _call(workdir, kamailio, "s3cret", "+74950000000")
    assert r["outcome"] == "busy" and r["sip_code"] == 486, r


def test_wrong_password_is_a_network_problem(workdir: Path, kamailio: int) -> None:
    r, err = _call(workdir, kamailio, "wrong", "+79123456789")
    assert "registration failed" in err
    assert r["outcome"] == "network", r
    assert r["sip_code"] == 407


def test_outbound_proxy_without_registration(
    workdir: Path, kamailio: int, phone: SimPhoneProc
) -> None:
    # IP-authenticated style trunk: no REGISTER; the INVITE for the callee's own address goes
    # through the outbound proxy, which challenges it (407) and relays it.
    trunk = f'domain = "127.0.0.1:{phone.port}"\nproxy = "sip:127.0.0.1:{kamailio};lr"\n'
    mark = "INVITE authorized for robot to 89123456789"
    before = (workdir / "kamailio.log").read_text().count(mark)
    r, _ = _call(workdir, kamailio, "s3cret", "+79123456789", trunk)
    assert r["outcome"] == "delivered" and r["sip_code"] == 200 and r["dtmf"] == "3", r
    assert (workdir / "kamailio.log").read_text().count(mark) == before + 1  # it went via it
