"""The rules of ARCHITECTURE.md that a machine can check: who may import whom, where the config
is read, how big a store module may grow, and that imports inside functions name their cost.

Every `import` and `from … import` of every module under cuckoo/ and adapters/ is read with
`ast` (at module level, inside functions and under TYPE_CHECKING alike)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Room → the rooms it may import (besides itself). A room is a top-level module or package of
# cuckoo (`cuckoo.line`, `cuckoo.store`, ...) or the `adapters` package.
FOUNDATION = {"cuckoo.domain", "cuckoo.errors", "cuckoo.clock", "cuckoo.logs", "cuckoo.resources"}
ALLOWED: dict[str, set[str]] = {
    "cuckoo.domain": set(),
    "cuckoo.errors": set(),
    "cuckoo.clock": set(),
    "cuckoo.logs": set(),
    "cuckoo.resources": {"cuckoo.errors"},  # where the shipped files are
    # pure rooms
    "cuckoo.line": FOUNDATION,
    "cuckoo.result_texts": FOUNDATION,  # what the ERP and the console show of a result
    "cuckoo.policy": FOUNDATION,
    "cuckoo.intake": FOUNDATION | {"cuckoo.policy"},
    "cuckoo.config": FOUNDATION | {"cuckoo.policy", "cuckoo.intake", "cuckoo.speech"},
    # mechanisms: each talks to the world through the seams, never to a sibling mechanism
    "cuckoo.speech": FOUNDATION | {"cuckoo.line", "cuckoo.config"},
    "cuckoo.telephony": FOUNDATION | {"cuckoo.line", "cuckoo.config", "cuckoo.policy"},
    "cuckoo.dialog": FOUNDATION | {"cuckoo.line", "cuckoo.config", "cuckoo.speech"},
    "cuckoo.sms": FOUNDATION | {"cuckoo.config", "cuckoo.policy", "cuckoo.intake"},
    "cuckoo.store": FOUNDATION | {"cuckoo.config", "cuckoo.policy", "cuckoo.intake"},
    # assembly and the front doors
    "cuckoo.worker": FOUNDATION
    | {
        "adapters",
        "cuckoo.config",
        "cuckoo.dialog",
        "cuckoo.intake",
        "cuckoo.line",
        "cuckoo.policy",
        "cuckoo.result_texts",
        "cuckoo.sms",
        "cuckoo.speech",
        "cuckoo.store",
        "cuckoo.telephony",
    },
    # the console and the API: the store's reads and writes, what the scenarios and the voice
    # make of a text; nothing of the worker, the telephony or the ERP adapters
    "cuckoo.web": FOUNDATION
    | {
        "cuckoo.config",
        "cuckoo.dialog",
        "cuckoo.intake",
        "cuckoo.result_texts",
        "cuckoo.sms",
        "cuckoo.speech",
        "cuckoo.store",
    },
    "cuckoo.demo": {"*"},  # "*": any room but the CLI, which nobody imports
    "cuckoo.cli": {"*"},
    # ERP adapters speak to the ERP interface only
    "adapters": FOUNDATION | {"cuckoo.config", "cuckoo.result_texts"},
}
# `config` validates [speech] day_parts with the NLU's own parser: that one module only.
NARROW = {("cuckoo.config", "cuckoo.speech"): {"cuckoo.speech.nlu.times"}}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    target: str  # the imported module, absolute
    in_function: bool
    comment: str  # the comment on that line or the line above, if any


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def room_of(module: str) -> str:
    if module == "adapters" or module.startswith("adapters."):
        return "adapters"
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "cuckoo" and len(parts) > 1 else module


def imports_of(path: Path) -> list[Import]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[Import] = []

    def comment_at(lineno: int) -> str:
        own = lines[lineno - 1]
        above = lines[lineno - 2].strip() if lineno >= 2 else ""
        text = own.partition("#")[2] if "#" in own else ""
        return text or (above[1:] if above.startswith("#") else "")

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [base]
            for t in targets:
                if t.startswith(("cuckoo", "adapters")):
                    found.append(
                        Import(path, child.lineno, t, in_function, comment_at(child.lineno))
                    )
            visit(child, inner)

    visit(tree, False)
    return found


def project_files() -> list[Path]:
    return sorted(
        [*ROOT.joinpath("cuckoo").rglob("*.py"), *ROOT.joinpath("adapters").rglob("*.py")]
    )


ALL_IMPORTS = [imp for f in project_files() for imp in imports_of(f)]


def test_every_room_has_a_rule() -> None:
    rooms = {room_of(module_name(f)) for f in project_files()} - {"cuckoo"}
    assert rooms <= set(ALLOWED), f"rooms without an import rule: {sorted(rooms - set(ALLOWED))}"


def may_import(src: str, dst: str, target: str) -> bool:
    if src == dst or dst == "cuckoo":
        return True
    if dst == "cuckoo.cli":
        return False
    rule = ALLOWED.get(src, set())
    narrow = NARROW.get((src, dst))
    return "*" in rule or (dst in rule and (narrow is None or target in narrow))


def test_who_may_import_whom() -> None:
    broken = [
        f"{imp.path.relative_to(ROOT)}:{imp.line}: {module_name(imp.path)} imports {imp.target}"
        for imp in ALL_IMPORTS
        if not may_import(room_of(module_name(imp.path)), room_of(imp.target), imp.target)
    ]
    assert not broken, "imports that break ARCHITECTURE.md's rules:\n" + "\n".join(broken)


@pytest.mark.parametrize("room", ["cuckoo/dialog", "cuckoo/telephony", "cuckoo/speech"])
def test_the_config_file_is_read_by_the_front_doors_only(room: str) -> None:
    """Call workers get their settings when they start; nothing inside them reads cuckoo.toml."""
    readers = [
        f"{f.relative_to(ROOT)}"
        for f in ROOT.joinpath(room).rglob("*.py")
        if "config.load(" in f.read_text(encoding="utf-8")
        or "from cuckoo.config import load" in f.read_text(encoding="utf-8")
    ]
    assert readers == []


def test_telephony_and_speech_do_not_know_each_other() -> None:
    crossing = [
        f"{imp.path.relative_to(ROOT)}:{imp.line}: {imp.target}"
        for imp in ALL_IMPORTS
        if (room_of(module_name(imp.path)), room_of(imp.target))
        in {("cuckoo.telephony", "cuckoo.speech"), ("cuckoo.speech", "cuckoo.telephony")}
    ]
    assert crossing == []


def test_imports_inside_functions_name_their_cost() -> None:
    """An import inside a function is an exception (a heavy dependency loaded only by the
    command that needs it, an import cycle): a comment on that line or the line above says
    which."""
    silent = [
        f"{imp.path.relative_to(ROOT)}:{imp.line}: {imp.target}"
        for imp in ALL_IMPORTS
        if imp.in_function and not imp.comment.strip()
    ]
    assert silent == [], "imports inside functions without a reason:\n" + "\n".join(silent)


def test_store_modules_stay_small() -> None:
    big = {
        str(f.relative_to(ROOT)): n
        for f in ROOT.joinpath("cuckoo", "store").glob("*.py")
        if (n := len(f.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert big == {}


def test_no_docstring_points_outside_the_repo() -> None:
    """The repo's own docs are the map: ARCHITECTURE.md, README.md, adapters/README.md."""
    pointing = [
        str(f.relative_to(ROOT))
        for f in project_files()
        if "DESIGN.md" in f.read_text(encoding="utf-8")
    ]
    assert pointing == []
