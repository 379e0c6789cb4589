"""SMS PDUs (3GPP TS 23.040 / 23.038) and the pure parts of the modem and smstools gateways:
known PDUs worked out by hand from the spec's field layout, octet by octet."""

from __future__ import annotations

import pytest

from cuckoo.sms.gateway import ReceiptStatus, SubmitState
from cuckoo.sms.modem import (
    LineSplitter,
    cme_error,
    cms_error,
    parse_registration,
    parse_signal,
    registration_problem,
)
from cuckoo.sms.pdu import (
    PduError,
    decode_status_report,
    encode_address,
    pack_septets,
    relative_validity,
    report_status,
    submit_pdus,
)
from cuckoo.sms.smstools import message_file, message_ids, parse_file, parse_report

# ---- 7-bit packing (TS 23.038 §6.1.2.1.1) ----------------------------------------------------


def test_packing_hellohello() -> None:
    # h=0x68 e=0x65 l=0x6C o=0x6F: the classic worked example, 10 septets in 9 octets
    assert pack_septets(b"hellohello").hex().upper() == "E8329BFD4697D9EC37"


def test_packing_eight_septets_fill_seven_octets() -> None:
    # eight septets of 0x7F are 56 one bits: exactly seven 0xFF octets, nothing left over
    assert pack_septets(b"\x7f" * 8) == b"\xff" * 7
    assert pack_septets(b"\x7f" * 9) == b"\xff" * 7 + b"\x7f"


def test_fill_bits_shift_the_text_after_a_header() -> None:
    # after a 6-octet UDH the text starts at bit 49: one zero fill bit, so "A" (0x41) → 0x82
    assert pack_septets(b"A", fill_bits=1) == b"\x82"
    # the second "A" takes bits 8-14: the whole next octet, 0x41
    assert pack_septets(b"AA", fill_bits=1) == b"\x82\x41"


# ---- addresses -------------------------------------------------------------------------------


def test_addresses() -> None:
    # digit count 11, type 91 (international, ISDN), digits swapped in pairs, F-padded
    assert encode_address("+79161234567").hex().upper() == "0B919761214365F7"
    assert encode_address("79161234567") == encode_address("+79161234567")
    assert encode_address("900").hex().upper() == "038109F0"  # a short number: type unknown
    for bad in ("", "+7 916", "MyShop", "٧٩١٦١٢٣٤٥٦٧"):
        with pytest.raises(PduError):
            encode_address(bad)


# ---- SMS-SUBMIT ------------------------------------------------------------------------------


def test_submit_the_classic_example() -> None:
    # "hellohello" to +46708251358, validity 4 days (relative, AA), no report
    [pdu] = submit_pdus(
        "+46708251358",
        "hellohello",
        status_report=False,
        reference=0,
        validity_minutes=4 * 24 * 60,
    )
    assert pdu.hex == "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    assert pdu.tpdu_length == 23  # AT+CMGS=23: the leading SMSC octet is not counted
    assert (pdu.part, pdu.total) == (1, 1)


def test_submit_cyrillic_goes_as_ucs2_with_a_status_report() -> None:
    [pdu] = submit_pdus("+79161234567", "Привет", status_report=True, reference=0)
    # 21: SUBMIT + TP-SRR; MR 00; DA; PID 00; DCS 08 (UCS2); UDL 0C = 12 octets; UTF-16BE
    assert pdu.hex == "0021000B919761214365F700080C041F04400438043204350442"
    assert pdu.tpdu_length == 25


def test_long_gsm_text_is_concatenated_with_an_8_bit_reference() -> None:
    text = "A" * 153 + "B" * 10
    first, second = submit_pdus("+79161234567", text, status_report=True, reference=0x42)
    tpdu = bytes.fromhex(first.hex)[1:]
    assert tpdu[0] == 0x61  # SUBMIT | SRR | UDHI
    ud_at = 2 + 8 + 2  # first octet, MR, the 8-octet address, PID, DCS
    assert tpdu[ud_at] == 160  # UDL: 7 septets of header (6 octets + 1 fill bit) + 153
    ud = tpdu[ud_at + 1 :]
    assert ud[:6] == bytes.fromhex("050003420201")  # IEI 00, length 3, ref 0x42, 2 parts, #1
    assert ud[6] == 0x82  # the first "A" after one fill bit
    assert len(ud) == 140 and first.tpdu_length == len(tpdu)
    tpdu2 = bytes.fromhex(second.hex)[1:]
    assert tpdu2[ud_at] == 7 + 10
    assert tpdu2[ud_at + 1 : ud_at + 7] == bytes.fromhex("050003420202")
    assert (second.part, second.total) == (2, 2)


def test_long_cyrillic_text_splits_at_67_ucs2_units() -> None:
    text = "Ж" * 70 + "ЖЖ"  # 72 units: over one SMS's 70, so 67 + 5
    parts = submit_pdus("+79161234567", text, status_report=False, reference=1)
    assert [p.total for p in parts] == [2, 2]
    ud_lengths = [bytes.fromhex(p.hex)[1:][12] for p in parts]
    assert ud_lengths == [6 + 67 * 2, 6 + 5 * 2]
    assert all(bytes.fromhex(p.hex)[1:][0] == 0x41 for p in parts)  # SUBMIT | UDHI, no SRR


def test_extension_characters_take_two_septets() -> None:
    [pdu] = submit_pdus("+79161234567", "[1]", status_report=False, reference=0)
    tpdu = bytes.fromhex(pdu.hex)[1:]
    assert tpdu[12] == 5  # ESC < 1 ESC >
    assert tpdu[13:] == pack_septets(bytes((0x1B, 0x3C, 0x31, 0x1B, 0x3E)))


def test_submit_refuses_what_it_cannot_send() -> None:
    with pytest.raises(PduError):
        submit_pdus("Shop", "text", status_report=False, reference=0)
    with pytest.raises(PduError):
        submit_pdus("+79161234567", "", status_report=False, reference=0)


@pytest.mark.parametrize(
    ("minutes", "octet"),
    [(5, 0), (60, 11), (12 * 60, 143), (18 * 60, 155), (24 * 60, 167), (4 * 1440, 170)],
)
def test_relative_validity(minutes: int, octet: int) -> None:
    assert relative_validity(minutes) == octet


# ---- SMS-STATUS-REPORT -----------------------------------------------------------------------

# SMSC +79037011111, first octet 06 (STATUS-REPORT, no more messages), MR 2A, recipient
# +79161234567, SCTS and DT 25-12-07 13:51:04 / 13:51:06 +03, then TP-ST.
SMSC = "07919730071111F1"
REPORT_TPDU = "062A0B919761214365F7" + "52217031154021" + "52217031156021"


def test_status_report_delivered() -> None:
    report = decode_status_report(SMSC + REPORT_TPDU + "00", 25)
    assert (report.reference, report.recipient, report.status) == (42, "+79161234567", 0)
    assert report.outcome is ReceiptStatus.DELIVERED
    assert report.meaning == "short message received by the SME"
    # a modem that leaves out the SMSC address: the length says so
    assert decode_status_report(REPORT_TPDU + "00", 25) == report


@pytest.mark.parametrize(
    ("st", "outcome"),
    [
        (0x00, ReceiptStatus.DELIVERED),
        (0x01, ReceiptStatus.DELIVERED),
        (0x21, None),  # SME busy, the SMSC still tries
        (0x41, ReceiptStatus.UNDELIVERABLE),
        (0x46, ReceiptStatus.EXPIRED),
        (0x62, ReceiptStatus.UNDELIVERABLE),
    ],
)
def test_status_values(st: int, outcome: ReceiptStatus | None) -> None:
    assert report_status(st) is outcome
    assert decode_status_report(SMSC + REPORT_TPDU + f"{st:02X}", 25).outcome is outcome


def test_status_report_refuses_other_pdus() -> None:
    with pytest.raises(PduError, match="not a status report"):
        decode_status_report("00" + "0021000B919761214365F700080C041F04400438043204350442")
    with pytest.raises(PduError):
        decode_status_report(SMSC + REPORT_TPDU[:20], 25)
    with pytest.raises(PduError):
        decode_status_report("zz")


# ---- what a modem's answers mean -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "state", "words"),
    [
        (38, SubmitState.UNREACHABLE, "network out of order"),
        (330, SubmitState.UNREACHABLE, "SMSC address unknown"),
        (500, SubmitState.UNREACHABLE, "unknown error"),
        (314, SubmitState.UNREACHABLE, "SIM busy"),
        (304, SubmitState.REFUSED, "invalid PDU mode parameter"),
        (305, SubmitState.REFUSED, "invalid text mode parameter"),
        (1, SubmitState.REFUSED, "unassigned"),
        (777, SubmitState.UNREACHABLE, "manufacturer specific"),
    ],
)
def test_cms_errors(code: int, state: SubmitState, words: str) -> None:
    got_state, text = cms_error(code)
    assert got_state is state
    assert text.startswith(f"+CMS ERROR {code}: ") and words in text


def test_cme_errors() -> None:
    assert cme_error(10) == "+CME ERROR 10: SIM not inserted"
    assert cme_error(14) == "+CME ERROR 14: SIM busy"
    assert cme_error(11) == "+CME ERROR 11: SIM PIN required"


def test_registration_and_signal() -> None:
    assert parse_registration(["+CREG: 0,1"], "+CREG") == 1
    assert parse_registration(['+CREG: 2,5,"1A2B","00C3",7'], "+CREG") == 5
    assert parse_registration(["+CEREG: 0,1"], "+CREG") is None
    assert registration_problem(1) is None and registration_problem(5) is None
    assert registration_problem(0) == "no network: not registered, not searching"
    assert registration_problem(2) == "no network: not registered, searching"
    assert registration_problem(3) == "no network: registration denied"
    assert parse_signal(["+CSQ: 20,99"]) == -73
    assert parse_signal(["+CSQ: 99,99"]) is None


def test_line_splitter_sees_the_prompt_without_a_line_end() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"\r\nOK\r\n\r\n+CM") == ["OK"]
    assert splitter.feed(b"GS: 17\r\n\r\nOK\r\n") == ["+CMGS: 17", "OK"]
    assert splitter.feed(b"\r\n> ") == [">"]
    assert splitter.feed(b"\r\n+CDS: 25\r\n07919730\r\n") == ["+CDS: 25", "07919730"]


# ---- smstools files --------------------------------------------------------------------------


def test_message_files() -> None:
    assert message_file("+79161234567", "Hello [1]", report=True) == (
        b"To: 79161234567\nAlphabet: ISO\nReport: yes\n\nHello [1]"
    )
    data = message_file("+79161234567", "Заказ №5", report=False)
    headers, body = parse_file(data)
    assert headers == {"To": "79161234567", "Alphabet": "UCS2", "Report": "no"}
    assert body.decode("utf-16-be") == "Заказ №5"
    assert parse_file(message_file("+7916", "café", report=True))[0]["Alphabet"] == "UCS2"
    with pytest.raises(ValueError):
        message_file("Shop", "x", report=True)


def test_sent_file_ids() -> None:
    assert message_ids("117") == {117}
    assert message_ids("117 118 119 .") == {117, 118, 119}  # smsd's messageids = 3
    assert message_ids("") == set()


def test_smsd_report_file() -> None:
    # smstools' own example (examples/received_report.sms)
    data = (
        b"From: 491721234567\nFrom_SMSC: 491722270333\nSent: 02-01-21 22:26:23\n"
        b"Received: 02-01-21 22:26:25\nSubject: GSM1\n\nSMS STATUS REPORT\nMessage_id: 117\n"
        b"Discharge_timestamp: 02-01-21 22:27:02\nStatus: 0,Ok,short message received by the SME\n"
    )
    report = parse_report(data)
    assert report is not None
    assert (report.recipient, report.message_id, report.status) == ("491721234567", 117, 0)
    assert report.words == "Ok,short message received by the SME"
    assert parse_report(b"From: 491721234567\n\nHello, an ordinary SMS\n") is None
