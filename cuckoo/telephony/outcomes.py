"""How a dial attempt ended, in cuckoo's terms. Pure logic.

`outcome_for_sip` is the table of SIP final responses and Q.850 causes of a call that was not
answered:

| SIP final response                   | Q.850 cause                            | outcome        |
|--------------------------------------|----------------------------------------|----------------|
| 486, 600                             | 17                                     | busy           |
| 480, 408, 487                        | 18, 19, 20, 31                         | no_answer      |
| 603, 403                             | 21                                     | rejected       |
| 404, 484, 410, 604, 485              | 1, 22, 28                              | invalid_number |
| none at all; any other 3xx–6xx       | 2, 3, 27, 34, 38, 41, 42, 44, 47, 102  | network        |

A known Q.850 cause wins over the SIP code; 1xx/2xx (not a failed call) and numbers outside
100–699 are errors. `dial_outcome` adds what the telephony side alone knows: our own CANCEL
after the ring timeout, a far end that never answered at the SIP level (no response at all:
nobody is listening there), a URI the SIP stack refused to dial. `early_media_outcome` is
what the early media said (a SIT, an operator's announcement) when we CANCEL on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cuckoo.domain import Outcome

# --- SIP final responses and Q.850 causes → outcome -------------------------------------------

_SIP: dict[int, Outcome] = {
    486: Outcome.BUSY,  # Busy Here
    600: Outcome.BUSY,  # Busy Everywhere
    480: Outcome.NO_ANSWER,  # Temporarily Unavailable (phone off, out of coverage)
    408: Outcome.NO_ANSWER,  # Request Timeout (rang out on the far side)
    487: Outcome.NO_ANSWER,  # Request Terminated: our CANCEL after the ring timeout
    603: Outcome.REJECTED,  # Decline: the customer pressed "reject"
    403: Outcome.REJECTED,  # Forbidden: what many carriers send for a rejected call
    404: Outcome.INVALID_NUMBER,  # Not Found
    484: Outcome.INVALID_NUMBER,  # Address Incomplete
    410: Outcome.INVALID_NUMBER,  # Gone
    604: Outcome.INVALID_NUMBER,  # Does Not Exist Anywhere
    485: Outcome.INVALID_NUMBER,  # Ambiguous
}

# Q.850 causes (the Reason header from a PSTN gateway) are more specific than the SIP code a
# trunk picks for them, so a known cause wins. Unknown causes fall back to the SIP code.
_Q850: dict[int, Outcome] = {
    1: Outcome.INVALID_NUMBER,  # unallocated (unassigned) number
    22: Outcome.INVALID_NUMBER,  # number changed
    28: Outcome.INVALID_NUMBER,  # invalid number format (address incomplete)
    17: Outcome.BUSY,  # user busy
    18: Outcome.NO_ANSWER,  # no user responding
    19: Outcome.NO_ANSWER,  # no answer from user (user alerted)
    20: Outcome.NO_ANSWER,  # subscriber absent (mobile off / out of coverage)
    31: Outcome.NO_ANSWER,  # normal, unspecified
    21: Outcome.REJECTED,  # call rejected
    # Routing and congestion: our carrier's trouble, not proof that the number is bad.
    2: Outcome.NETWORK,  # no route to specified transit network
    3: Outcome.NETWORK,  # no route to destination
    27: Outcome.NETWORK,  # destination out of order
    34: Outcome.NETWORK,  # no circuit/channel available
    38: Outcome.NETWORK,  # network out of order
    41: Outcome.NETWORK,  # temporary failure
    42: Outcome.NETWORK,  # switching equipment congestion
    44: Outcome.NETWORK,  # requested circuit/channel not available
    47: Outcome.NETWORK,  # resource unavailable, unspecified
    102: Outcome.NETWORK,  # recovery on timer expiry
}


def outcome_for_sip(code: int | None, q850: int | None = None) -> Outcome:
    """Outcome of a call that was not answered, from its final SIP response and Q.850 cause.

    `code` None means no final response at all (timeout, transport error) → NETWORK.
    Unknown 3xx/4xx/5xx/6xx codes (auth failures 401/407, 488, 5xx…) are our side's or the
    carrier's trouble → NETWORK: retried, capped, not against the customer's barrier.
    2xx is not a failure: an answered call's outcome comes from the dialog, so it is an error here.
    """
    if q850 is not None and q850 in _Q850:
        return _Q850[q850]
    if code is None:
        return Outcome.NETWORK
    if 100 <= code < 300:
        raise ValueError(f"SIP {code} is not a failed call: the dialog decides the outcome")
    if not 300 <= code < 700:
        raise ValueError(f"SIP {code} is not a SIP status code")
    return _SIP.get(code, Outcome.NETWORK)


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
    return outcome_for_sip(f.sip_code, f.q850)


def early_media_outcome(*, invalid: bool) -> Outcome:
    """A call the network refused in its early media, before any answer (a special
    information tone, an operator's announcement: cuckoo.telephony.early). A number that does
    not exist (SIT vacant code / intercept, «номер не существует») → INVALID_NUMBER; anything
    else («абонент недоступен», «аппарат выключен», no circuit, reorder) → NO_ANSWER, as a 480
    would be: retried, and not a contact."""
    return Outcome.INVALID_NUMBER if invalid else Outcome.NO_ANSWER
