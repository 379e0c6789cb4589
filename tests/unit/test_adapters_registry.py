"""build_adapter: picking the class, validating options with errors that name the key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from adapters import build_adapter, build_adapters
from adapters.api import ApiAdapter
from adapters.csv_folder import CsvFolderAdapter
from adapters.onec import OneCAdapter
from adapters.samples.erp import render_sql
from adapters.sql import SqlAdapter, bind_names
from cuckoo.config import Config, load, locate, parse
from cuckoo.config.adapters import AdapterSettings
from cuckoo.domain import ErpAdapter
from cuckoo.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def settings(**kw: Any) -> AdapterSettings:
    return AdapterSettings(**kw)


def test_builtin_types(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    sql = build_adapter("shop", settings(type="sql", url="sqlite:///shop.db"), tmp_path)
    onec = build_adapter("erp1c", settings(type="onec", url="http://127.0.0.1:9/o"), tmp_path)
    csv = build_adapter("drop", settings(type="csv", folder="in"), tmp_path)
    assert isinstance(sql, SqlAdapter) and sql.name == "shop"
    assert isinstance(onec, OneCAdapter) and onec.options.url.endswith("/o/")
    assert isinstance(csv, CsvFolderAdapter) and csv.folder == tmp_path / "in"
    for a in (sql, onec, csv):
        assert isinstance(a, ErpAdapter)
    # relative SQLite paths are relative to cuckoo.toml's folder, not the cwd
    assert sql.engine.url.database == str(tmp_path / "shop.db")


def test_build_adapters_skips_disabled(tmp_path: Path) -> None:
    built = build_adapters(
        {
            "a": settings(type="sql", url="sqlite://"),
            "b": settings(type="sql", url="sqlite://", enabled=False),
        },
        tmp_path,
    )
    assert list(built) == ["a"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"type": "ftp"}, r"\[adapters.x.type\] unknown adapter type 'ftp'; use one of sql, onec"),
        (
            {"type": "nosuchpkg.mod:Cls"},
            r"\[adapters.x.type\] 'nosuchpkg.mod:Cls': cannot import nosuchpkg.mod",
        ),
        ({"type": "adapters.sql:Nope"}, r"'adapters.sql:Nope': adapters.sql has no 'Nope'"),
        ({"type": "sql"}, r"\[adapters.x\] .*set one of `url`, `url_env` or `url_file`"),
        ({"type": "sql", "url": "sqlite://", "bogus": 1}, r"\[adapters.x.bogus\] Extra inputs"),
        (
            {"type": "sql", "url": "sqlite://", "write_back": "UPDATE t SET a = :nope"},
            r"\[adapters.x.write_back\] .*statement 1: unknown parameter\(s\) :nope; known:",
        ),
        (
            {"type": "sql", "url": "sqlite://", "pending_query": "SELECT :today"},
            r"\[adapters.x.pending_query\] .*unknown parameter\(s\) :today; known: :now, :source",
        ),
        (
            {"type": "sql", "url": "sqlite://", "fields": {"phnoe": "tel"}},
            r"\[adapters.x.fields\] .*unknown field\(s\) \['phnoe'\]",
        ),
        (
            {"type": "sql", "url": "sqlite://", "erp_timezone": "Москва"},
            r"\[adapters.x.erp_timezone\] .*unknown time zone",
        ),
        (
            {"type": "sql", "url": "sqlite://", "default_channel": "fax"},
            r"\[adapters.x.default_channel\]",
        ),
        ({"type": "sql", "url": "nonsense"}, r"\[adapters.x.url\] not a database URL"),
        ({"type": "sql", "url": "oracle+nodriver://u@h/db"}, r"\[adapters.x.url\]"),
        (
            {"type": "sql", "url": "mysql+mysqldb://u@h/db"},
            r"\[adapters.x.url\] the database driver 'mysqldb' is not installed: pip install",
        ),
        ({"type": "sql", "url_env": "CUCKOO_TEST_UNSET_URL"}, r"CUCKOO_TEST_UNSET_URL is not set"),
        ({"type": "onec", "url": "ftp://x"}, r"\[adapters.x.url\] .*http:// or https://"),
        (
            {"type": "onec", "url": "http://x", "register_fields": {"A": "stauts"}},
            r"\[adapters.x.register_fields\] .*unknown parameter\(s\) \['stauts'\]",
        ),
        ({"type": "onec", "url": "http://x", "page_size": 0}, r"\[adapters.x.page_size\]"),
        (
            {"type": "onec", "url": "http://x", "password": "a", "password_env": "PATH"},
            r"\[adapters.x\] .*set only one of password, password_env",
        ),
        ({"type": "csv", "encoding": "klingon"}, r"\[adapters.x.encoding\] .*unknown encoding"),
        ({"type": "csv", "delimiter": ";;"}, r"\[adapters.x.delimiter\]"),
        ({"type": "csv", "results": "de"}, r"\[adapters.x.results\] Input should be 'ru' or 'en'"),
        (
            {"type": "csv", "status_names": {"confirmd": "1"}},
            r"\[adapters.x.status_names\] .*unknown status\(es\) \['confirmd'\]; known: pending",
        ),
        (
            {"type": "csv", "status_names": {"confirmed": 1}},
            r"\[adapters.x.status_names.confirmed\] Input should be a valid string",
        ),
    ],
)
def test_bad_options_name_the_key(kw: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        build_adapter("x", settings(**kw), tmp_path)


def test_dotted_path_user_adapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_erp_adapter.py").write_text(
        "class Good:\n"
        "    def __init__(self, name, options, base_dir):\n"
        "        self.name, self.options = name, options\n"
        "    def fetch_pending(self):\n        return []\n"
        "    def report(self, result):\n        pass\n"
        "class Bad:\n"
        "    def __init__(self, name, options, base_dir):\n        pass\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    a = build_adapter("mine", settings(type="my_erp_adapter:Good", token="t"), tmp_path)
    assert a.name == "mine"
    assert a.options == {"token": "t"}  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="does not implement ErpAdapter"):
        build_adapter("mine", settings(type="my_erp_adapter:Bad"), tmp_path)


def test_result_options_point_at_the_file_line(tmp_path: Path) -> None:
    """As `cuckoo run` and `cuckoo check` report them: FILE:LINE: [adapters.NAME.key] why."""
    (tmp_path / "in").mkdir()
    toml = tmp_path / "cuckoo.toml"
    toml.write_text(
        "[adapters.drop]\n"
        'type = "csv"\n'
        'folder = "in"\n'
        'results = "ru"\n'
        "\n"
        "[adapters.drop.status_names]\n"
        'confirmed = "1"\n'
        'exhausetd = "4"\n',
        encoding="utf-8",
    )
    config = load(toml)
    with pytest.raises(ConfigError) as e:
        build_adapters(config.adapters, config.base_dir)
    assert locate(str(e.value), toml).startswith(
        f"{toml}:6: [adapters.drop.status_names] Value error, unknown status(es) ['exhausetd']"
    )
    toml.write_text(toml.read_text(encoding="utf-8").replace("exhausetd", "exhausted"))
    config = load(toml)
    built = build_adapters(config.adapters, config.base_dir)["drop"]
    assert isinstance(built, CsvFolderAdapter)
    assert built.options.status_names == {"confirmed": "1", "exhausted": "4"}


def _uncommented_adapters_section() -> str:
    """The commented examples of cuckoo.toml's [adapters.NAME] section, uncommented."""
    text = (ROOT / "cuckoo.toml").read_text(encoding="utf-8")
    section = text[text.index("# ---- [adapters.NAME]") :]
    nxt = re.search(r"^# ---- \[", section[5:], re.M)
    if nxt:
        section = section[: nxt.start() + 5]
    out, on = [], False
    for line in section.splitlines():
        if line.startswith("# [adapters."):
            on = True
        if on and line.startswith("# ") and not line.startswith(("# #", "# --")):
            out.append(line[2:])
    return "\n".join(out)


def test_cuckoo_toml_examples_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _uncommented_adapters_section()
    tomllib.loads(text)  # valid TOML once uncommented
    config: Config = parse(text, base_dir=tmp_path)
    assert set(config.adapters) == {"shop", "erp1c", "crm", "drop"}
    monkeypatch.setenv("CUCKOO_1C_PASSWORD", "x")
    (tmp_path / "var" / "inbox").mkdir(parents=True)
    built = build_adapters(config.adapters, config.base_dir)
    assert isinstance(built["shop"], SqlAdapter)
    assert isinstance(built["erp1c"], OneCAdapter)
    assert isinstance(built["drop"], CsvFolderAdapter)
    assert isinstance(built["crm"], ApiAdapter)
    onec = built["erp1c"]
    assert onec.options.register_constants == {
        "Документ_Type": "StandardODATA.Document_ЗаказКлиента"
    }


def test_bind_names() -> None:
    assert bind_names("UPDATE t SET a = :status WHERE id = CAST(:external_id AS INTEGER)") == {
        "status",
        "external_id",
    }
    assert bind_names("SELECT '10:30' AS t") == set()


def test_shop_erp_sql_is_current() -> None:
    """adapters/samples/shop_erp.sql is generated from adapters/samples/erp.py."""
    shipped = (ROOT / "adapters" / "samples" / "shop_erp.sql").read_text(encoding="utf-8")
    assert shipped == render_sql(), (
        "run: python -m adapters.samples.erp > adapters/samples/shop_erp.sql"
    )
