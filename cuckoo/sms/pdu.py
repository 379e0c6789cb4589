"""SMS PDUs as a GSM modem takes them in PDU mode (AT+CMGF=0): 3GPP TS 23.040, pure functions.

    submit_pdus(to, text, status_report=True, reference=7) -> [SubmitPdu, ...]
        one SMS-SUBMIT per part: hex for after AT+CMGS's ">" prompt, and the TPDU length that
        AT+CMGS=<length> wants (the leading SMSC octet "00" is not counted: 3GPP TS 27.005 §3.5.1)
    decode_status_report(hex, tpdu_length) -> StatusReport
        an SMS-STATUS-REPORT from a `+CDS: <length>` unsolicited result: TP-MR, TP-RA, TP-ST

SMS-SUBMIT (TS 23.040 §9.2.2.2), octet by octet:
    00                  SMSC address length 0: the SIM's SMSC (AT+CSCA)
    first octet         TP-MTI 01 (SUBMIT) | TP-VPF 10 (relative, when a validity is set) << 3
                        | TP-SRR (a status report, bit 5) | TP-UDHI (a header, bit 6)
    TP-MR               00: the modem fills in its own reference and answers it in +CMGS
    TP-DA               digit count, type of address (91 international), swapped semi-octets
    TP-PID 00, TP-DCS   00 = GSM 7-bit default alphabet, 08 = UCS2 (UTF-16BE)
    TP-VP               one octet (relative), only with TP-VPF 10
    TP-UDL, TP-UD       septets (7-bit, the header included) or octets (UCS2); the header of a
                        concatenated part: 05 00 03 <reference> <total> <seq> (IEI 00, 8-bit
                        reference), and 7-bit text after it starts on a septet boundary (one fill
                        bit after a 6-octet header)
Parts are split by `segments.split` (153 septets / 67 UCS2 units per part), so what `cuckoo
check` counts is what goes out.
"""

from __future__ import annotations

from dataclasses import dataclass

from cuckoo.sms.gateway import ReceiptStatus
from cuckoo.sms.segments import Encoding, encode, septets, split, udh_concat

DCS_GSM7 = 0x00
DCS_UCS2 = 0x08
TOA_INTERNATIONAL = 0x91
TOA_UNKNOWN = 0x81
MTI_SUBMIT = 0x01
MTI_STATUS_REPORT = 0x02
SRR = 0x20  # TP-Status-Report-Request (SMS-SUBMIT, bit 5)
UDHI = 0x40  # TP-User-Data-Header-Indicator (bit 6)
VPF_RELATIVE = 0x10  # TP-VPF = 10 (bits 4-3)


class PduError(ValueError):
    """A PDU that cannot be built (a bad number) or read (a truncated or foreign PDU)."""


@dataclass(frozen=True)
class SubmitPdu:
    hex: str  # "00" (the SIM's SMSC) + the TPDU, upper-case hex: what follows the ">" prompt
    tpdu_length: int  # octets of the TPDU: AT+CMGS=<tpdu_length>
    part: int  # 1-based
    total: int


def pack_septets(values: bytes, fill_bits: int = 0) -> bytes:
    """GSM 7-bit packing (TS 23.038 §6.1.2.1.1): septets packed least significant bit first,
    after `fill_bits` zero bits (what aligns text to a septet boundary after a header)."""
    out = bytearray()
    acc, bits = 0, fill_bits
    for v in values:
        acc |= (v & 0x7F) << bits
        bits += 7
        while bits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            bits -= 8
    if bits:
        out.append(acc & 0xFF)
    return bytes(out)


def encode_address(number: str) -> bytes:
    """TP-DA: digit count, type of address, the digits as swapped semi-octets (F-padded).
    "+79161234567" and "79161234567" are international (91); PduError for anything not a
    number (an alphanumeric address cannot be a destination)."""
    digits = number.strip().lstrip("+")
    if not digits.isascii() or not digits.isdigit() or not 1 <= len(digits) <= 20:
        raise PduError(f"{number!r} is not a phone number a modem can send to")
    toa = TOA_INTERNATIONAL if len(digits) > 6 else TOA_UNKNOWN  # short codes: unknown type
    padded = digits + ("F" if len(digits) % 2 else "")
    swapped = "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))
    return bytes((len(digits), toa)) + bytes.fromhex(swapped)


def decode_address(data: bytes, offset: int) -> tuple[str, int]:
    """An address field (TP-DA / TP-RA / TP-OA) at `offset` → (number, offset after it).
    International numbers get a "+"."""
    try:
        count, toa = data[offset], data[offset + 1]
    except IndexError:
        raise PduError("truncated address") from None
    octets = (count + 1) // 2
    raw = data[offset + 2 : offset + 2 + octets]
    if len(raw) != octets:
        raise PduError("truncated address")
    digits = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in raw)[:count]
    number = ("+" if (toa & 0x70) == 0x10 else "") + digits
    return number, offset + 2 + octets


def relative_validity(minutes: int) -> int:
    """TP-VP, relative format (TS 23.040 §9.2.3.12.1), rounded down to what it can say:
    5 minutes steps to 12 h, 30 minutes steps to 24 h, days to 30 days, weeks to 63 weeks."""
    if minutes < 5:
        raise PduError("a validity period is at least 5 minutes")
    if minutes <= 12 * 60:
        return minutes // 5 - 1
    if minutes < 24 * 60:
        return 143 + (minutes - 12 * 60) // 30
    days = minutes // (24 * 60)
    if days <= 30:
        return 166 + max(days, 1)
    return min(255, 192 + days // 7)


def submit_pdus(
    to: str,
    text: str,
    *,
    status_report: bool,
    reference: int,
    validity_minutes: int = 0,
) -> list[SubmitPdu]:
    """One SMS-SUBMIT per part of `text`: GSM 7-bit when every character has a septet, else
    UCS2; a text longer than one SMS gets concatenation headers with `reference` (0-255).
    `validity_minutes` 0 leaves the validity to the SMSC. PduError for a bad number,
    MessageTooLong (from `split`) beyond 255 parts."""
    address = encode_address(to)
    plan = split(text)
    if not plan.parts:
        raise PduError("empty text")
    total = len(plan.parts)
    first = MTI_SUBMIT | (SRR if status_report else 0) | (UDHI if total > 1 else 0)
    vp = b""
    if validity_minutes:
        first |= VPF_RELATIVE
        vp = bytes((relative_validity(validity_minutes),))
    dcs = DCS_GSM7 if plan.encoding is Encoding.GSM7 else DCS_UCS2
    out = []
    for seq, part in enumerate(plan.parts, start=1):
        udh = udh_concat(reference, total, seq) if total > 1 else b""
        body = encode(part, plan.encoding)
        if plan.encoding is Encoding.GSM7:
            # the header takes whole septets: fill bits pad it to the next septet boundary
            header_bits = len(udh) * 8
            fill = (7 - header_bits % 7) % 7
            ud = udh + pack_septets(body, fill)
            udl = (header_bits + fill) // 7 + septets(part)
        else:
            ud = udh + body
            udl = len(ud)
        tpdu = bytes((first, 0x00)) + address + bytes((0x00, dcs)) + vp + bytes((udl,)) + ud
        out.append(SubmitPdu("00" + tpdu.hex().upper(), len(tpdu), seq, total))
    return out


# --- SMS-STATUS-REPORT (TS 23.040 §9.2.2.3) --------------------------------------------------


@dataclass(frozen=True)
class StatusReport:
    reference: int  # TP-MR: what +CMGS answered for the message it is about
    recipient: str  # TP-RA
    status: int  # TP-ST
    outcome: ReceiptStatus | None  # None: interim (the SMSC is still trying)

    @property
    def meaning(self) -> str:
        return describe_status(self.status)


def decode_status_report(pdu_hex: str, tpdu_length: int | None = None) -> StatusReport:
    """A `+CDS:` PDU. Modems put the SMSC address in front of the TPDU (27.005 §3.4.1); the
    TPDU length tells whether it is there (more octets than the TPDU: it is)."""
    try:
        data = bytes.fromhex(pdu_hex.strip())
    except ValueError:
        raise PduError("not a hex PDU") from None
    if not data:
        raise PduError("empty PDU")
    offset = 0
    if tpdu_length is None or len(data) > tpdu_length:
        offset = 1 + data[0]
    try:
        first = data[offset]
        reference = data[offset + 1]
    except IndexError:
        raise PduError("truncated status report") from None
    if first & 0x03 != MTI_STATUS_REPORT:
        raise PduError(f"not a status report (TP-MTI {first & 0x03})")
    recipient, at = decode_address(data, offset + 2)
    at += 7 + 7  # TP-SCTS, TP-DT: when the SMSC took it and when this status was reached
    if at >= len(data):
        raise PduError("truncated status report")
    status = data[at]
    return StatusReport(reference, recipient, status, report_status(status))


def report_status(st: int) -> ReceiptStatus | None:
    """TP-ST (TS 23.040 §9.2.3.15) → a receipt: 0x00-0x1F done, 0x20-0x3F the SMSC still tries
    (None: interim), 0x40-0x7F it gave up (0x46 / 0x65..: the validity period ran out)."""
    if st < 0x20:
        return ReceiptStatus.DELIVERED
    if st < 0x40:
        return None
    if st == 0x46:
        return ReceiptStatus.EXPIRED
    return ReceiptStatus.UNDELIVERABLE


_STATUS_TEXT = {
    0x00: "short message received by the SME",
    0x01: "forwarded by the SC to the SME, delivery not confirmed",
    0x02: "replaced by the SC",
    0x20: "congestion (still trying)",
    0x21: "SME busy (still trying)",
    0x22: "no response from SME (still trying)",
    0x23: "service rejected (still trying)",
    0x24: "quality of service not available (still trying)",
    0x25: "error in SME (still trying)",
    0x40: "remote procedure error",
    0x41: "incompatible destination",
    0x42: "connection rejected by SME",
    0x43: "not obtainable",
    0x44: "quality of service not available",
    0x45: "no interworking available",
    0x46: "SM validity period expired",
    0x47: "SM deleted by originating SME",
    0x48: "SM deleted by SC administration",
    0x49: "SM does not exist",
    0x60: "congestion (gave up)",
    0x61: "SME busy (gave up)",
    0x62: "no response from SME (gave up)",
    0x63: "service rejected (gave up)",
    0x64: "quality of service not available (gave up)",
    0x65: "error in SME (gave up)",
}


def describe_status(st: int) -> str:
    return _STATUS_TEXT.get(st, f"status 0x{st:02X}")
