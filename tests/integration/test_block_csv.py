"""The do-not-call list in and out as CSV (issue 13, item 8): `cuckoo block --import FILE`
takes what office programs save (`;` or `,`, a BOM or none, a header or none, numbers in any
spelling), names the lines that are not numbers and keeps the others; `--export` writes a file
Excel opens as columns, and importing it into another store gives the same list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cuckoo.intake.blocklist_csv import parse_csv


def cuckoo(cwd: Path, config: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "-c", config, *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def store(tmp_path: Path, name: str) -> str:
    config = tmp_path / f"{name}.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / name}.sqlite"\n', "utf-8")
    assert cuckoo(tmp_path, str(config), "db", "upgrade").returncode == 0
    return str(config)


def test_import_export_round_trip(tmp_path: Path) -> None:
    a, b = store(tmp_path, "a"), store(tmp_path, "b")
    dnc = tmp_path / "dnc.csv"
    dnc.write_bytes(
        "\ufeffТелефон;Причина\n8 (912) 345-67-89;просил не звонить\n+7 495 123 45 67\n"
        "не номер;x\n89123456789;again\n".encode()
    )
    got = cuckoo(tmp_path, a, "block", "--import", str(dnc))
    assert got.returncode == 1  # a line was skipped
    assert got.stdout.strip() == f"{dnc}: 3 numbers, 2 new on the list, 1 lines skipped"
    assert got.stderr.strip().endswith(f"{dnc}:4: phone 'не номер': contains letters; skipped")

    out = tmp_path / "out.csv"
    assert cuckoo(tmp_path, a, "block", "--export", str(out)).returncode == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfphone;reason;added_at\r\n")
    rows = [(r.phone, r.reason) for r in parse_csv(data.decode("utf-8"))]
    assert sorted(rows) == [("+74951234567", "imported from dnc.csv"),
                            ("+79123456789", "просил не звонить")]  # fmt: skip

    again = cuckoo(tmp_path, b, "block", "--import", str(out))
    assert again.returncode == 0, again.stderr
    other = tmp_path / "other.csv"
    cuckoo(tmp_path, b, "block", "--export", str(other))
    assert [r.phone for r in parse_csv(other.read_text("utf-8-sig"))] == [
        r.phone for r in parse_csv(data.decode("utf-8"))
    ]
    status = cuckoo(tmp_path, b, "status", "--json")
    assert '"blocked_numbers": 2' in status.stdout


def test_commas_and_no_header() -> None:
    lines = parse_csv("9123456789,spam\n+7 912 345 67 80\n")
    assert [(b.line, b.phone, b.reason) for b in lines] == [
        (1, "+79123456789", "spam"),
        (2, "+79123456780", "imported"),
    ]
