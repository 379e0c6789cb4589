"""How a dial attempt ended, in cuckoo's terms. Pure logic.

The SIP code / Q.850 table itself is `cuckoo.policy.outcome_for_sip` (DESIGN.md §5); this module
adds only what the telephony side alone knows: our own CANCEL after the ring timeout, a far end
that never answered at the SIP level (no response at all: nobody is listening there), a URI the
SIP stack refused to dial.
"""

from __future__ import annotations

from dataclasses import dataclass

from cuckoo.domain import Outcome


@dataclass(frozen=True)
class DialFacts:
    answered: bool
    sip_code: int | None  # final status code, None if none arrived
    q850: int | None = None
    any_response: bool = True  # any SIP response (even 100 Trying) arrived
    ring_timeout: bool = False  # we cancelled after ring_timeout
    setup_timeout: bool = False  # we gave up: no SIP response at all within setup_timeout
    bad_uri: bool = False  # the SIP stack refused the target (syntax, unsupported scheme)
    local_error: bool = False  # our side could not place the call (transport, no slot)


def dial_outcome(f: DialFacts) -> Outcome | None:
    """None when the call was answered (the conversation decides the outcome)."""
    if f.answered:
        return None
    if f.bad_uri:
        return Outcome.INVALID_NUMBER
    if f.local_error or f.setup_timeout:
        return Outcome.NETWORK
    if f.ring_timeout:
        return Outcome.NO_ANSWER
    if f.sip_code == 408 and not f.any_response:
        # Timer B fired without a single response: the far end is not there (network),
        # not a phone that rang unanswered.
        return Outcome.NETWORK
    from cuckoo.policy.retry import outcome_for_sip

    return outcome_for_sip(f.sip_code, f.q850)
