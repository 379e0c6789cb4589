"""The smstools (smsd) spool gateway: most tests play smsd's part themselves (move the message
file to sent/ or failed/ with the headers smsd adds, write status reports as smsd writes them;
the formats are copied from a real smsd 3.1.21's files); the last one runs the real smsd
(Debian's `smstools` package) on tmp spool folders, driving tests/modem_emulator.py's
pseudo-terminal as its modem, and skips when smsd is not installed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from modem_emulator import ModemEmulator
from sms_helpers import Receipts, sms_notification
from sms_helpers import channel_for as shared_channel_for

from cuckoo.config import parse
from cuckoo.config.sms import SmstoolsGatewaySettings
from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.errors import ConfigError
from cuckoo.sms import SmsChannel, build_gateway
from cuckoo.sms.gateway import SubmitState
from cuckoo.sms.smstools import SmstoolsGateway, parse_file

pytestmark = pytest.mark.timeout(90)

PHONE = "+79161234567"
CYRILLIC = "Заказ №1024 готов к выдаче. Ждём вас!"
FOLDERS = ("outgoing", "sent", "failed", "report", "incoming", "checked")


class FakeSmsd:
    """smsd's part: what it does to the files, in its formats."""

    def __init__(self, spool: Path) -> None:
        self.spool = spool
        self.mr = 0

    def outgoing(self) -> list[Path]:
        return sorted(p for p in (self.spool / "outgoing").iterdir() if not p.name.startswith("."))

    def send_all(self, *, ids: str = "") -> list[tuple[str, dict[str, str], int]]:
        """Every outgoing file to sent/, with Sent: and Message_id: (the TP-MR) added."""
        done = []
        for path in self.outgoing():
            headers, body = parse_file(path.read_bytes())
            mr = self.mr
            self.mr += 1
            extra = (
                f"Modem: GSM1\nSent: 26-12-04 07:12:04\nSending_time: 1\n"
                f"Message_id: {ids or mr}\nIMSI: 250011234567890\n"
            )
            head = "".join(f"{k}: {v}\n" for k, v in headers.items())
            (self.spool / "sent" / path.name).write_bytes((head + extra + "\n").encode() + body)
            path.unlink()
            done.append((path.name, headers, mr))
        return done

    def fail_all(self, error: str = "Modem initialization failed") -> list[str]:
        names = []
        for path in self.outgoing():
            data = path.read_bytes()
            head, _, body = data.partition(b"\n\n")
            extra = f"\nFailed: 26-12-04 07:12:04\nError: {error}\n\n".encode()
            (self.spool / "failed" / path.name).write_bytes(head + extra + body)
            path.unlink()
            names.append(path.name)
        return names

    def report(self, phone: str, mr: int, status: str, folder: str = "report") -> Path:
        path = self.spool / folder / f"GSM1.{os.urandom(3).hex()}"
        path.write_text(
            f"From: {phone.lstrip('+')}\nFrom_TOA: 91 international, ISDN/telephone\n"
            "From_SMSC: 79037011111\nSent: 26-12-04 07:12:04\nReceived: 26-12-04 07:12:07\n"
            "Subject: GSM1\nModem: GSM1\nReport: no\nAlphabet: ISO\nLength: 117\nUDH: no\n\n"
            f"SMS STATUS REPORT\nMessage_id: {mr}\nDischarge_timestamp: 26-12-04 07:12:06\n"
            f"Status: {status}",
            encoding="latin-1",
        )
        return path


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    root = tmp_path / "sms"
    for name in FOLDERS:
        (root / name).mkdir(parents=True)
    return root


def settings(spool: Path, **kw: Any) -> SmstoolsGatewaySettings:
    return SmstoolsGatewaySettings(
        **{
            "outgoing": str(spool / "outgoing"),
            "sent": str(spool / "sent"),
            "failed": str(spool / "failed"),
            "report": str(spool / "report"),
            "poll_interval_s": 0.1,
            **kw,
        }
    )


@pytest.fixture
def gateway(spool: Path) -> Iterator[SmstoolsGateway]:
    gw = SmstoolsGateway("spool", settings(spool))
    yield gw
    gw.close()


def notification(phone: str = PHONE) -> Notification:
    return sms_notification(phone, 5)


def channel_for(gw: SmstoolsGateway, receipts: Receipts, text: str = CYRILLIC) -> SmsChannel:
    return shared_channel_for(gw, receipts, text)


# ---- the message file ------------------------------------------------------------------------


def test_cyrillic_message_file_and_its_report(spool: Path, gateway: SmstoolsGateway) -> None:
    receipts = Receipts()
    r = channel_for(gateway, receipts).deliver(notification())
    assert r.outcome is Outcome.SENT, r.detail
    smsd = FakeSmsd(spool)
    [path] = smsd.outgoing()
    assert path.name == r.gateway_message_id and path.name.startswith("cuckoo-spool-")
    headers, body = parse_file(path.read_bytes())
    assert headers == {"To": "79161234567", "Alphabet": "UCS2", "Report": "yes"}
    assert body.decode("utf-16-be") == CYRILLIC
    assert [p.name for p in spool.iterdir() if p.is_file()] == []  # no temporary file left
    [(_, _, mr)] = smsd.send_all()
    smsd.report("+79990000000", mr, "0,Ok,short message received by the SME")  # not ours
    smsd.report(PHONE, mr, "48,Temporary,SME busy")  # 0x30: the SMSC still tries
    time.sleep(0.4)
    assert receipts.got == []
    smsd.report(PHONE, mr, "0,Ok,short message received by the SME")
    assert receipts.wait(1) == [(r.gateway_message_id, "delivered")]


def test_plain_latin_goes_as_iso(spool: Path) -> None:
    gw = SmstoolsGateway("spool", settings(spool, status_report=False))
    try:
        assert gw.send(PHONE, "Your order {17} is ready", "Shop").accepted
    finally:
        gw.close()
    [path] = FakeSmsd(spool).outgoing()
    assert path.read_bytes() == (
        b"To: 79161234567\nAlphabet: ISO\nReport: no\n\nYour order {17} is ready"
    )


@pytest.mark.parametrize(
    ("status", "receipt"),
    [("70,Failed,SM Validity Period Expired", "expired"), ("65,Failed,x", "undeliverable")],
)
def test_failed_reports(spool: Path, gateway: SmstoolsGateway, status: str, receipt: str) -> None:
    receipts = Receipts()
    gateway.set_receipt_handler(receipts)
    r = gateway.send(PHONE, "text", "Shop")
    [(_, _, mr)] = FakeSmsd(spool).send_all()
    FakeSmsd(spool).report(PHONE, mr, status)
    assert receipts.wait(1) == [(r.message_id, receipt)]


def test_a_file_smsd_failed_is_undeliverable(spool: Path, gateway: SmstoolsGateway) -> None:
    receipts = Receipts()
    gateway.set_receipt_handler(receipts)
    r = gateway.send(PHONE, "text", "Shop")
    assert FakeSmsd(spool).fail_all() == [r.message_id]
    assert receipts.wait(1) == [(r.message_id, "undeliverable")]


def test_every_part_must_be_delivered_with_messageids_3(
    spool: Path, gateway: SmstoolsGateway
) -> None:
    receipts = Receipts()
    gateway.set_receipt_handler(receipts)
    r = gateway.send(PHONE, "Ж" * 150, "Shop")
    smsd = FakeSmsd(spool)
    smsd.send_all(ids="7 8 9 .")
    smsd.report(PHONE, 7, "0,Ok,short message received by the SME")
    smsd.report(PHONE, 9, "0,Ok,short message received by the SME")
    time.sleep(0.4)
    assert receipts.got == []
    smsd.report(PHONE, 8, "0,Ok,short message received by the SME")
    assert receipts.wait(1) == [(r.message_id, "delivered")]


def test_reports_in_incoming_and_an_old_report_with_the_same_id(spool: Path) -> None:
    smsd = FakeSmsd(spool)
    old = smsd.report(PHONE, 0, "65,Failed,old message", folder="incoming")
    (spool / "incoming" / "GSM1.sms").write_text("From: 79161234567\n\nHello!\n")
    past = time.time() - 3600
    os.utime(old, (past, past))  # a report for an earlier message that had the same id
    gw = SmstoolsGateway("spool", settings(spool, report=str(spool / "incoming")))
    receipts = Receipts()
    gw.set_receipt_handler(receipts)
    try:
        r = gw.send(PHONE, "text", "Shop")
        [(_, _, mr)] = smsd.send_all()
        assert mr == 0
        time.sleep(0.4)
        assert receipts.got == []
        smsd.report(PHONE, 0, "0,Ok,short message received by the SME", folder="incoming")
        assert receipts.wait(1) == [(r.message_id, "delivered")]
    finally:
        gw.close()
    assert (spool / "incoming" / "GSM1.sms").exists() and old.exists()  # nothing removed


def test_a_restarted_gateway_follows_what_was_sent_before(spool: Path) -> None:
    first = SmstoolsGateway("spool", settings(spool))
    r = first.send(PHONE, "text", "Shop")
    first.close()
    [(_, _, mr)] = FakeSmsd(spool).send_all()
    second = SmstoolsGateway("spool", settings(spool))
    receipts = Receipts()
    second.set_receipt_handler(receipts)
    try:
        FakeSmsd(spool).report(PHONE, mr, "0,Ok,short message received by the SME")
        assert receipts.wait(1) == [(r.message_id, "delivered")]
    finally:
        second.close()


# ---- trouble ---------------------------------------------------------------------------------


def test_a_missing_outgoing_folder_names_the_key(spool: Path) -> None:
    gw = SmstoolsGateway("spool", settings(spool, outgoing=str(spool / "nope")))
    try:
        r = channel_for(gw, Receipts()).deliver(notification())
    finally:
        gw.close()
    assert r.outcome is Outcome.NETWORK
    assert f"cannot move the message into {spool / 'nope'}" in r.detail
    assert "[sms.gateways.spool.outgoing]" in r.detail
    assert [p for p in spool.iterdir() if p.is_file()] == []  # the temporary file is gone


def test_an_unwritable_tmp_dir_names_the_key(spool: Path) -> None:
    gw = SmstoolsGateway("spool", settings(spool, tmp_dir=str(spool / "missing")))
    try:
        r = gw.send(PHONE, "text", "Shop")
    finally:
        gw.close()
    assert r.state is SubmitState.UNREACHABLE
    assert (
        f"cannot write {spool / 'missing'}" in r.error and "[sms.gateways.spool.tmp_dir]" in r.error
    )


def test_a_bad_number_is_refused(gateway: SmstoolsGateway, spool: Path) -> None:
    r = gateway.send("Shop", "text", "Shop")
    assert r.state is SubmitState.REFUSED
    assert FakeSmsd(spool).outgoing() == []


def test_check_names_each_folder_and_its_line(spool: Path, tmp_path: Path) -> None:
    from cuckoo.cli.check_cmd import check_all

    shutil.rmtree(spool / "failed")
    config = tmp_path / "cuckoo.toml"
    config.write_text(
        f"""
[sms.gateways.ok]
type = "smstools"
outgoing = "{spool / "outgoing"}"
sent = "{spool / "sent"}"
failed = "{spool / "sent"}"
report = "{spool / "report"}"

[sms.gateways.bad]
type = "smstools"
outgoing = "{tmp_path / "no-such"}"
sent = "{spool / "sent"}"
failed = "{spool / "failed"}"
report = "{spool / "report"}"
""",
        encoding="utf-8",
    )
    report = check_all(str(config))
    assert f"sms gateway ok (smstools): ok, spool folders ok ({spool / 'outgoing'})" in (
        report.notes
    )
    problems = [p for p in report.problems if "sms.gateways" in p]
    assert problems == [
        f"{config}:11: [sms.gateways.bad.outgoing] {tmp_path / 'no-such'}: no such folder",
        f"{config}:13: [sms.gateways.bad.failed] {spool / 'failed'}: no such folder",
    ]


def test_smstools_gateway_from_cuckoo_toml() -> None:
    config = parse('[sms.gateways.spool]\ntype = "smstools"\n')
    gw_settings = config.sms.gateways["spool"]
    assert isinstance(gw_settings, SmstoolsGatewaySettings)
    assert (gw_settings.outgoing, gw_settings.sent, gw_settings.failed) == (
        "/var/spool/sms/outgoing",
        "/var/spool/sms/sent",
        "/var/spool/sms/failed",
    )
    assert gw_settings.report == "/var/spool/sms/incoming"  # Debian's smsd.conf has no report =
    gw = build_gateway("spool", config.sms)
    assert isinstance(gw, SmstoolsGateway)
    gw.close()
    with pytest.raises(ConfigError) as e:
        parse('[sms]\nsender = "x"\n\n[sms.gateways.spool]\ntype = "smstools"\nsent = " "\n')
    assert str(e.value).startswith("cuckoo.toml:6: [sms.gateways.spool.smstools.sent] ")


# ---- `cuckoo sms send`, a real process -------------------------------------------------------


def test_cli_sms_send_through_the_spool(spool: Path, tmp_path: Path) -> None:
    config = tmp_path / "cuckoo.toml"
    config.write_text(
        f"""
[sms]
sender = "Cuckoo"
[sms.gateways.spool]
type = "smstools"
outgoing = "{spool / "outgoing"}"
sent = "{spool / "sent"}"
failed = "{spool / "failed"}"
report = "{spool / "report"}"
poll_interval_s = 0.1
""",
        encoding="utf-8",
    )
    smsd = FakeSmsd(spool)
    stop = threading.Event()

    def play_smsd() -> None:
        while not stop.wait(0.1):
            for _, headers, mr in smsd.send_all():
                smsd.report(headers["To"], mr, "0,Ok,short message received by the SME")

    t = threading.Thread(target=play_smsd, daemon=True)
    t.start()
    try:
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "cuckoo.cli.main", "-c", str(config), "sms", "send"),
                *("8 (916) 123-45-67", "Проверка", "--wait-receipt", "10"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stop.set()
        t.join(5)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "accepted: message id cuckoo-spool-" in proc.stdout
    assert "receipt: delivered" in proc.stdout
    [sent] = list((spool / "sent").iterdir())
    assert parse_file(sent.read_bytes())[1].decode("utf-16-be") == "Проверка"


# ---- the scheduler's path --------------------------------------------------------------------

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def test_requested_sms_goes_into_the_spool_and_its_receipt_reaches_the_store(
    spool: Path, sqlite_url: str
) -> None:
    from cuckoo.config.scheduler import SchedulerSettings
    from cuckoo.domain import AttemptResult, IncomingNotification
    from cuckoo.store import Store
    from cuckoo.worker.channels import sms_channel
    from cuckoo.worker.scheduler import Scheduler

    text = "Заказ 1024: улица Ленина, дом 5."
    config = parse(
        f"""
scenarios_dir = "{REPO / "scenarios"}"
[sms]
sender = "Shop"
[sms.gateways.main]
type = "smstools"
outgoing = "{spool / "outgoing"}"
sent = "{spool / "sent"}"
failed = "{spool / "failed"}"
report = "{spool / "report"}"
poll_interval_s = 0.1
"""
    )
    store = Store(sqlite_url)
    store.upgrade()
    clock_now = [NOW]
    channel = sms_channel(config, store, lambda: clock_now[0])
    try:
        sched = Scheduler(
            store,
            {ChannelKind.SMS: channel},
            settings=SchedulerSettings.model_validate({"sms_request_retry_s": 60}),
            clock=lambda: clock_now[0],
            owner="w",
        )
        store.ingest([IncomingNotification("erp", "a", "+79123456700", "order_ready")], NOW)
        [n] = store.claim_due("w", NOW, 1, 60)
        r = AttemptResult(Outcome.CONFIRMED, NOW, NOW, dtmf="1", sms_text=text)
        store.finish_attempt(n, "w", r, NOW)
        assert sched.flush_sms_requests() == 1
        [req] = store.sms_requests_of(n.id)
        assert req.state == "sent" and req.gateway_message_id is not None
        smsd = FakeSmsd(spool)
        [(name, headers, mr)] = smsd.send_all()
        assert name == req.gateway_message_id and headers["To"] == "79123456700"
        smsd.report("79123456700", mr, "0,Ok,short message received by the SME")
        deadline = time.monotonic() + 10
        while store.sms_requests_of(n.id)[0].receipt_status != "delivered":
            assert time.monotonic() < deadline, store.sms_requests_of(n.id)
            time.sleep(0.1)
    finally:
        channel.close()
        store.close()


# ---- the real smsd, driving the modem emulator -----------------------------------------------


@pytest.mark.skipif(shutil.which("smsd") is None, reason="smsd (Debian's smstools) not installed")
def test_real_smsd_sends_through_the_emulated_modem(spool: Path, tmp_path: Path) -> None:
    text = "Здравствуйте! Ваш заказ №1024 собран и ждёт вас в пункте выдачи. Срок хранения 5 дней."
    # reports come 3 s after each part: smsd (which would rather read them from the SIM) takes
    # one that comes while it waits for +CMGS for an error, and pauses 10 s
    with ModemEmulator(report_delay_s=3.0) as modem:
        conf = tmp_path / "smsd.conf"
        folders = "".join(f"{name} = {spool / name}\n" for name in FOLDERS)
        conf.write_text(
            f"devices = GSM1\n{folders}logfile = {tmp_path / 'smsd.log'}\nloglevel = 7\n"
            f"infofile = {tmp_path / 'smsd.running'}\npidfile = {tmp_path / 'smsd.pid'}\n"
            "delaytime = 1\ndelaytime_mainprocess = 1\nautosplit = 3\n\n"
            f"[GSM1]\ndevice = {modem.path}\nincoming = yes\nreport = yes\nmessageids = 3\n"
            "init = AT+CNMI=2,1,0,1,0\n",
            encoding="utf-8",
        )
        smsd = subprocess.Popen(
            ["smsd", "-t", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        gw = SmstoolsGateway("spool", settings(spool))
        receipts = Receipts()
        gw.set_receipt_handler(receipts)
        try:
            long = gw.send(PHONE, text, "Shop")
            short = gw.send("+79160000001", "Hello from cuckoo [1]", "Shop")
            assert long.accepted and short.accepted
            deadline = time.monotonic() + 40
            while len(receipts.got) < 2 and time.monotonic() < deadline:
                if smsd.poll() is not None:
                    # (its log appears only once it runs: on a busy machine, a while after)
                    log_file = tmp_path / "smsd.log"
                    log = log_file.read_text(errors="replace") if log_file.exists() else ""
                    raise AssertionError(f"smsd stopped ({smsd.returncode}):\n{log[-3000:]}")
                time.sleep(0.2)
            got = receipts.wait(2, timeout=1)
            assert sorted(got) == sorted(
                [(long.message_id, "delivered"), (short.message_id, "delivered")]
            )
            messages = {m.to: m for m in modem.messages()}
            assert messages["79161234567"].text == text  # smsd split it; the emulator joined it
            assert len(messages["79161234567"].parts) == 2
            assert {p.dcs for p in messages["79161234567"].parts} == {0x08}
            assert messages["79160000001"].text == "Hello from cuckoo [1]"
            assert messages["79160000001"].parts[0].dcs == 0x00  # ISO → GSM 7-bit by smsd
            assert sorted(p.name for p in (spool / "sent").iterdir()) == sorted(
                [long.message_id, short.message_id]
            )
        finally:
            gw.close()
            os.killpg(smsd.pid, signal.SIGTERM)
            try:
                smsd.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(smsd.pid, signal.SIGKILL)
                smsd.wait(5)
