"""[telephony] operator reaches the call workers' conversation (for `transfer: operator`)."""

from __future__ import annotations

import pickle
from pathlib import Path

from cuckoo.config import parse
from cuckoo.worker.channels import call_channel, scenario_conversation


def test_operator_goes_into_the_conversation(tmp_path: Path) -> None:
    cfg = parse('[telephony]\noperator = "sip:op@pbx.local"\n', base_dir=tmp_path)
    assert cfg.telephony.operator == "sip:op@pbx.local"
    conversation = scenario_conversation(cfg)
    assert conversation.operator == "sip:op@pbx.local"
    assert conversation.scenarios_dir == (tmp_path / "scenarios").resolve()
    # what the call workers get once, when they start: picklable
    spec = call_channel(cfg).pool.spec
    assert pickle.loads(pickle.dumps(spec)).converse == conversation


def test_no_operator(tmp_path: Path) -> None:
    assert scenario_conversation(parse("", base_dir=tmp_path)).operator == ""
