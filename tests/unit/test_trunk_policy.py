"""The trunk pool's decisions (cuckoo.policy.trunks): order, channel limits, tenants,
cool-down after failures in a row, registration, and the caller id a customer sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from cuckoo.config import parse
from cuckoo.errors import ConfigError
from cuckoo.policy.trunks import TrunkBook, TrunkSpec, caller_id_for, trunk_failed
from cuckoo.telephony.dialplan import target_uri


def book(*specs: TrunkSpec, failures: int = 3, cooldown_s: float = 60.0) -> TrunkBook:
    return TrunkBook.of(specs, failures=failures, cooldown_s=cooldown_s)


def test_priority_then_name_decides_the_order() -> None:
    b = book(TrunkSpec("b", 1), TrunkSpec("a", 1), TrunkSpec("z", 0))
    assert [t.name for t in b.candidates("t")] == ["z", "a", "b"]
    assert b.pick("t", 0.0).trunk == "z"


def test_a_full_trunk_hands_calls_to_the_next_and_all_full_means_wait() -> None:
    b = book(TrunkSpec("a", 0, max_calls=1), TrunkSpec("b", 1, max_calls=1))
    assert b.pick("t", 0.0).trunk == "a"
    assert b.pick("t", 0.0).trunk == "b"
    third = b.pick("t", 0.0)
    assert third.trunk is None and third.why_not == "busy"
    b.release("a")
    assert b.pick("t", 0.0).trunk == "a"


def test_tenants_see_only_their_trunks() -> None:
    b = book(TrunkSpec("shop", 0, tenants=("shop",)), TrunkSpec("shared", 1))
    assert b.pick("shop", 0.0).trunk == "shop"
    assert b.pick("bank", 0.0).trunk == "shared"
    only = book(TrunkSpec("shop", 0, tenants=("shop",)))
    assert only.pick("bank", 0.0).why_not == "no trunk"


def test_failures_in_a_row_take_a_trunk_out_for_the_cooldown() -> None:
    b = book(TrunkSpec("a", 0), TrunkSpec("b", 1), failures=2, cooldown_s=60)
    assert b.record("a", failed=True, now=10.0) is False
    assert b.record("a", failed=True, now=11.0) is True  # the second in a row
    assert b.pick("t", 12.0).trunk == "b"
    b.release("b")
    assert b.pick("t", 70.9).trunk == "b"  # still resting
    b.release("b")
    assert b.pick("t", 71.0).trunk == "a"  # back after the cool-down


def test_a_success_resets_the_count() -> None:
    b = book(TrunkSpec("a", 0), TrunkSpec("b", 1), failures=2)
    b.record("a", failed=True, now=0.0)
    b.record("a", failed=False, now=1.0)
    assert b.record("a", failed=True, now=2.0) is False
    assert b.pick("t", 3.0).trunk == "a"


def test_every_trunk_out_is_said_and_a_single_trunk_is_never_taken_out() -> None:
    b = book(TrunkSpec("a", 0), TrunkSpec("b", 1), failures=1)
    b.record("a", failed=True, now=0.0)
    b.record("b", failed=True, now=0.0)
    assert b.pick("t", 1.0).why_not == "every trunk is out of service"
    single = book(TrunkSpec("only", 0), failures=1)
    single.record("only", failed=True, now=0.0)
    single.registration("only", False)
    assert single.pick("t", 1.0).trunk == "only"  # nothing to fail over to


def test_skip_excludes_the_trunks_a_call_already_failed_on() -> None:
    b = book(TrunkSpec("a", 0), TrunkSpec("b", 1))
    assert b.pick("t", 0.0, skip=["a"]).trunk == "b"
    assert b.pick("t", 0.0, skip=["a", "b"]).why_not == "every trunk failed"


def test_a_lost_registration_takes_a_trunk_out_until_it_registers_again() -> None:
    b = book(TrunkSpec("a", 0), TrunkSpec("b", 1))
    b.registration("a", False)
    assert b.pick("t", 0.0).trunk == "b"
    assert "registration lost" in b.status(0.0)["a"]
    b.registration("a", True)
    assert b.pick("t", 0.0).trunk == "a"


@pytest.mark.parametrize(
    ("answered", "code", "network", "local", "failed"),
    [
        (False, None, True, False, True),  # no SIP response at all
        (False, 408, True, False, True),
        (False, 503, True, False, True),
        (False, 403, False, False, True),  # the trunk refused our credentials
        (False, 486, False, False, False),  # busy: the trunk works
        (False, 404, False, False, False),  # the number does not exist: the trunk works
        (False, 480, False, False, False),
        (True, 200, False, False, False),
        (False, None, True, True, False),  # our own side refused to place it
        (False, None, False, False, False),  # not dialled at all for another reason
    ],
)
def test_which_failures_are_the_trunks(
    answered: bool, code: int | None, network: bool, local: bool, failed: bool
) -> None:
    assert trunk_failed(answered=answered, sip_code=code, network=network, local=local) is failed


def test_no_response_at_all_is_the_trunks_whatever_code_our_cancel_left() -> None:
    assert trunk_failed(answered=False, sip_code=487, network=True, local=False, no_response=True)
    assert not trunk_failed(answered=False, sip_code=487, network=False, local=False)


def test_a_customer_always_sees_the_same_number() -> None:
    pool = ["+74950000001", "+74950000002", "+74950000003"]
    phones = [f"+7916{i:07d}" for i in range(3000)]
    first = {p: caller_id_for(p, pool) for p in phones}
    assert first == {p: caller_id_for(p, list(reversed(pool))) for p in phones}  # order-free
    counts = {n: sum(1 for v in first.values() if v == n) for n in pool}
    assert all(800 < c < 1200 for c in counts.values()), counts  # spread over the pool
    # a fourth number takes about a quarter of the customers and moves nobody else
    grown = {p: caller_id_for(p, [*pool, "+74950000004"]) for p in phones}
    moved = [p for p in phones if grown[p] != first[p]]
    assert all(grown[p] == "+74950000004" for p in moved)
    assert 600 < len(moved) < 900
    assert caller_id_for("+79160000000", []) == ""


# ---- the config sections: [telephony.trunks.NAME], [telephony.failover], caller ids ---------


def _example_trunks() -> str:
    """cuckoo.toml's commented example of several trunks, uncommented."""
    text = (Path(__file__).resolve().parents[2] / "cuckoo.toml").read_text()
    start = text.index("# [telephony.trunks.main]")
    end = text.index("# shop = [", start)
    block = text[start : text.index("\n", end)]
    return "[telephony]\n" + "\n".join(
        line[2:] for line in block.splitlines() if line.startswith("# ")
    )


def test_the_sample_config_of_several_trunks_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUNK_MAIN_PASSWORD", "secret")
    cfg = parse(_example_trunks())
    tel = cfg.telephony
    assert list(tel.trunk_pool) == ["main", "gsm"]
    assert tel.trunks["main"].max_calls == 10 and tel.trunks["gsm"].priority == 1
    assert tel.failover.failures == 3 and tel.caller_ids["shop"][0] == "+74951234567"
    assert (
        target_uri("+79161234567", tel, tel.trunks["main"]) == "sip:89161234567@sip.operator-one.ru"
    )
    assert target_uri("+79161234567", tel) == "sip:89161234567@sip.operator-one.ru"  # priority 0
    gsm = target_uri("+79161234567", tel, tel.trunks["gsm"])
    assert gsm == "sip:+79161234567@192.168.1.50:5060"  # no dial plan of its own, none global


def test_both_trunk_forms_at_once_is_an_error_naming_the_file() -> None:
    text = '[telephony.trunk]\ndomain = "a.example"\n[telephony.trunks.b]\ndomain = "b.example"\n'
    with pytest.raises(ConfigError, match=r"cuckoo.toml: \[telephony\] .*keep one form"):
        parse(text)


def test_a_named_trunk_needs_a_domain_and_caller_ids_must_be_numbers() -> None:
    with pytest.raises(ConfigError, match=r"\[telephony.trunks.b\] needs a domain"):
        parse("[telephony.trunks.b]\npriority = 1\n")
    with pytest.raises(ConfigError, match=r"cuckoo.toml:3: .*caller id 'shop' is neither"):
        parse('[telephony.trunks.b]\ndomain = "b.example"\ncaller_ids = ["shop"]\n')


def test_the_one_trunk_form_is_the_default_trunk() -> None:
    tel = parse('[telephony.trunk]\ndomain = "pbx.example"\n').telephony
    assert list(tel.trunk_pool) == ["default"]
    assert parse("").telephony.trunk_pool == {}
