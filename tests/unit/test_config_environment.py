"""CUCKOO_… variables over cuckoo.toml (cuckoo/config/environment.py): naming, value parsing,
secrets, errors that name the variable, and where each value came from."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel, ValidationError

from adapters import BUILTIN, resolve_class
from cuckoo.config import Config, parse, parse_traced
from cuckoo.config.environment import holds_text, variable_name
from cuckoo.errors import ConfigError

FILE = """\
var_dir = "var"
[scheduler]
poll_interval_s = 30
[telephony.trunk]
domain = "pbx.local"
password = "from-file"
[sms.gateways.Smsc]
type = "smpp"
password = "gw"
"""


def test_variables_override_the_file_in_any_case() -> None:
    config = parse(
        FILE,
        environ={
            "CUCKOO_SCHEDULER__POLL_INTERVAL_S": "5",
            "cuckoo_store__busy_timeout_ms": "250",
            "CUCKOO_VAR_DIR": "/srv/cuckoo",
            "CUCKOO_TELEPHONY__CODECS": '["PCMA/8000"]',
            "CUCKOO_STORE__ECHO": "true",
            "CUCKOO_SMS__GATEWAYS__SMSC__PORT": "2776",  # the file spells it Smsc
        },
    )
    assert config.scheduler.poll_interval_s == 5.0
    assert config.store.busy_timeout_ms == 250
    assert config.var_dir == Path("/srv/cuckoo")
    assert config.telephony.codecs == ["PCMA/8000"]
    assert config.store.echo is True
    assert config.sms.gateways["Smsc"].port == 2776
    assert config.telephony.trunk.domain == "pbx.local"  # untouched keys stay


def test_text_keys_take_the_raw_text() -> None:
    config = parse(
        "",
        environ={
            "CUCKOO_TELEPHONY__TRUNK__PASSWORD": "0123",  # would be the integer 123 as TOML
            "CUCKOO_SCHEDULER__OWNER": "true",
            "CUCKOO_TELEPHONY__TRANSPORT": "tls",
        },
    )
    assert config.telephony.trunk.password == "0123"
    assert config.scheduler.owner == "true"
    assert config.telephony.transport == "tls"
    assert holds_text(Config, ("sms", "gateways", "x", "secret"))  # through a union
    assert not holds_text(Config, ("scheduler", "poll_interval_s"))


def test_other_cuckoo_variables_are_left_alone() -> None:
    config = parse("", environ={"CUCKOO_CONFIG": "x.toml", "CUCKOO_TEST_PG_URL": "y"})
    assert config == parse("", environ={})


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as e:
        parse(
            FILE,
            environ={"CUCKOO_SCHEDULER__POLL_INTERVAL_S": "soon", "CUCKOO_STORE__NOPE": "1"},
        )
    lines = str(e.value).splitlines()
    assert lines[0].startswith("env CUCKOO_STORE__NOPE: [store.nope] Extra inputs")
    assert lines[1].startswith("env CUCKOO_SCHEDULER__POLL_INTERVAL_S: [scheduler.poll_interval_s]")
    assert "cuckoo.toml" not in str(e.value)


def test_a_file_error_still_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"^cuckoo.toml:3: \[scheduler.poll_interval_s\]"):
        parse(FILE.replace("= 30", "= -1"), environ={"CUCKOO_STORE__ECHO": "true"})


def test_a_variable_into_a_value_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"env CUCKOO_VAR_DIR__X: \[var_dir\] is a value"):
        parse(FILE, environ={"CUCKOO_VAR_DIR__X": "1"})


def test_a_secret_from_the_environment_replaces_the_files_forms(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-secret-file\n", encoding="utf-8")
    env = {"CUCKOO_TELEPHONY__TRUNK__PASSWORD_FILE": "pw"}
    config = parse(FILE, base_dir=tmp_path, environ=env)
    assert config.telephony.trunk.password == "from-secret-file"
    env = {"CUCKOO_TELEPHONY__TRUNK__PASSWORD": "from-env"}
    assert parse(FILE, environ=env).telephony.trunk.password == "from-env"


def test_origins(tmp_path: Path) -> None:
    (tmp_path / "url.txt").write_text("sqlite:///x.db\n", encoding="utf-8")
    text = FILE + '[store]\nurl_file = "url.txt"\n'
    loaded = parse_traced(
        text,
        base_dir=tmp_path,
        environ={"CUCKOO_SCHEDULER__POLL_INTERVAL_S": "5"},
    )
    poll = loaded.origin(("scheduler", "poll_interval_s"))
    assert poll == "env CUCKOO_SCHEDULER__POLL_INTERVAL_S"
    assert loaded.origin(("telephony", "trunk", "domain")) == "cuckoo.toml:5"
    assert loaded.origin(("store", "url")) == f"file {tmp_path / 'url.txt'}"
    assert loaded.origin(("store", "url_file")) == "cuckoo.toml:11"
    assert loaded.origin(("store", "echo")) == "default"
    assert loaded.config.store.url == "sqlite:///x.db"


def test_variable_name() -> None:
    assert variable_name(("telephony", "trunk", "password")) == "CUCKOO_TELEPHONY__TRUNK__PASSWORD"


# ---- every secret has the same three forms ----------------------------------------------------

SECRET_LIKE = re.compile(r"(^|_)(password|passwd|secret|token|api_key|apikey|psw)$")


def models_under(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """`model` and every settings model its fields hold (through unions, dicts and lists)."""
    seen: set[type[BaseModel]] = set()
    todo = [model]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        yield m
        for field in m.model_fields.values():
            stack = [field.annotation]
            while stack:
                tp = stack.pop()
                if isinstance(tp, type) and issubclass(tp, BaseModel):
                    todo.append(tp)
                else:
                    stack.extend(a for a in get_args(tp) if a is not None)


def all_settings_models() -> list[type[BaseModel]]:
    models = list(models_under(Config))
    for name in BUILTIN:
        models.extend(models_under(resolve_class("x", name).Options))
    return models


def test_every_secret_field_has_env_and_file_forms_and_is_hidden() -> None:
    secrets = []
    for model in all_settings_models():
        fields = model.model_fields
        for name, field in fields.items():
            if name.endswith(("_env", "_file")):
                continue
            if not (SECRET_LIKE.search(name) or field.repr is False):
                continue
            secrets.append(f"{model.__name__}.{name}")
            where = f"{model.__name__}.{name}"
            assert f"{name}_env" in fields and f"{name}_file" in fields, where
            assert field.repr is False, f"{where}: would show in a repr"
    # the ones known today, so a model that stops being walked fails here
    assert {
        "StoreSettings.url",
        "TrunkSettings.password",
        "SmppGatewaySettings.password",
        "HttpGatewaySettings.secret",
        "SqlOptions.url",
        "OneCOptions.password",
    } <= set(secrets)


def test_adapter_secrets_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "erp-url").write_text("sqlite:///erp.db\n", encoding="utf-8")
    (tmp_path / "onec-pw").write_text("секрет\n", encoding="utf-8")
    sql = resolve_class("shop", "sql").Options
    onec = resolve_class("erp", "onec").Options
    ctx = {"base_dir": tmp_path}
    assert sql.model_validate({"url_file": "erp-url"}, context=ctx).url == "sqlite:///erp.db"
    one = onec.model_validate({"url": "http://1c/odata/", "password_file": "onec-pw"}, context=ctx)
    assert one.password == "секрет"
    with pytest.raises(ValidationError, match="set one of `url`, `url_env` or `url_file`"):
        sql.model_validate({}, context=ctx)
    with pytest.raises(ValidationError, match="no such file"):
        onec.model_validate({"url": "http://1c/", "password_file": "nope"}, context=ctx)
