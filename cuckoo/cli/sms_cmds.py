"""`cuckoo sms send +7… "текст"`: send one SMS through a configured gateway (for admins)."""

from __future__ import annotations

import argparse
import threading
from typing import Any

import phonenumbers

from cuckoo.cli.output import group_usage
from cuckoo.config import config_path, load
from cuckoo.errors import ConfigError, InputError
from cuckoo.sms import build_gateways, segments


def register(sub: Any) -> None:
    sms = sub.add_parser("sms", help="SMS gateway tools")
    sms_sub = sms.add_subparsers(dest="sms_command", metavar="SMS_COMMAND")
    send = sms_sub.add_parser(
        "send", help="send one SMS through a gateway and print what it answered"
    )
    send.add_argument("phone", help="destination, e.g. +79123456789 or 89123456789")
    send.add_argument("text", help="message text")
    send.add_argument("--gateway", help="gateway name from [sms.gateways.NAME]")
    send.add_argument("--sender", help="sender name (default: [sms] sender / senders.TENANT)")
    send.add_argument("--tenant", default="default", help="tenant whose sender/gateway to use")
    send.add_argument(
        "--wait-receipt",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for the delivery receipt",
    )
    send.set_defaults(func=send_cmd)
    sms.set_defaults(func=group_usage(sms))


def normalize_phone(raw: str) -> str:

    try:
        number = phonenumbers.parse(raw, "RU")
    except phonenumbers.NumberParseException as e:
        raise InputError(f"phone {raw!r}: {e}") from e
    if not phonenumbers.is_possible_number(number):
        raise InputError(f"phone {raw!r} is not a possible number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def send_cmd(args: argparse.Namespace) -> int:

    config = load(args.config)
    source = config_path(args.config) or "no config file (./cuckoo.toml, $CUCKOO_CONFIG)"
    settings = config.sms
    phone = normalize_phone(args.phone)
    if not settings.gateways:
        raise ConfigError(
            f"{source}: no SMS gateway configured: add an [sms.gateways.NAME] table "
            "(the [sms] section of the shipped cuckoo.toml has SMPP, HTTP, SNPP, smstools and "
            "GSM modem examples)"
        )
    known = ", ".join(sorted(settings.gateways))
    try:
        name = args.gateway or settings.gateway_name_for(args.tenant)
    except KeyError as e:
        raise ConfigError(f"{source}: {e.args[0]}; pick one with --gateway ({known})") from None
    if name not in settings.gateways:
        raise ConfigError(f"{source}: no [sms.gateways.{name}] (there are: {known})")
    sender = args.sender or settings.sender_for(args.tenant)
    encoding, count = segments(args.text)
    print(f"{phone}: {count} {encoding} part(s) from {sender!r} via {name}")

    receipts: list[tuple[str, str]] = []
    got = threading.Event()

    def on_receipt(message_id: str, status: str) -> None:
        receipts.append((message_id, status))
        got.set()

    gateways, webhook = build_gateways(settings, [name])
    gateway = gateways[name]
    gateway.set_receipt_handler(on_receipt)
    try:
        result = gateway.send(phone, args.text, sender)
        if not result.accepted:
            print(f"{result.state}: {result.error}")
            return 1
        if result.message_id is None:  # SNPP: the gateway gives no id, nor receipts
            print("accepted (this gateway gives no message id and no delivery receipts)")
            return 0
        print(f"accepted: message id {result.message_id}")
        if args.wait_receipt > 0:
            mine = result.message_id
            deadline = threading.Event()
            timer = threading.Timer(args.wait_receipt, deadline.set)
            timer.start()
            try:
                while not deadline.is_set():
                    if got.wait(0.2):
                        got.clear()
                        for mid, status in receipts:
                            if mid == mine:
                                print(f"receipt: {status}")
                                return 0 if status == "delivered" else 1
            finally:
                timer.cancel()
            print(f"no receipt in {args.wait_receipt:g} s")
            return 1
        return 0
    finally:
        gateway.close()
        if webhook is not None:
            webhook.close()
