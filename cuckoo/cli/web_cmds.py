"""`cuckoo web` (the console and the API), `cuckoo users add|list|remove` (who may log in) and
`cuckoo tokens create|list|revoke` (the API's Bearer tokens). Needs the [web] extra."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from cuckoo.cli.output import add_json_flag, emit_json, group_usage, show_table, wants_json
from cuckoo.config import Config, load
from cuckoo.errors import InputError
from cuckoo.web import need_web
from cuckoo.worker.store import open_store

ROLES = ("admin", "manager", "viewer")


def register(sub: Any) -> None:
    web = sub.add_parser(
        "web",
        help="serve the web console and the HTTP API",
        description="Serves the console (pages at /) and the API (/api/v1) until Ctrl-C. "
        "A non-loopback address needs [web] public = true and a TLS proxy in front.",
    )
    web.add_argument(
        "--listen", metavar="HOST:PORT", help="default: [web] listen or 127.0.0.1:8080"
    )
    web.set_defaults(func=cmd_web)

    users = sub.add_parser("users", help="people who log in to the web console")
    users.set_defaults(func=group_usage(users))
    us = users.add_subparsers(dest="users_command", metavar="ACTION")
    add = us.add_parser("add", help="add a user (or change one's role, tenant and password)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--tenant", help="the tenant whose data they see (managers and viewers)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from the first line of stdin (never from the command line)",
    )
    add.set_defaults(func=cmd_users_add)
    ls = us.add_parser("list", help="the users")
    add_json_flag(ls)
    ls.set_defaults(func=cmd_users_list)
    rm = us.add_parser("remove", help="remove a user; their sessions end")
    rm.add_argument("name")
    rm.set_defaults(func=cmd_users_remove)

    tokens = sub.add_parser("tokens", help="Bearer tokens of the HTTP API")
    tokens.set_defaults(func=group_usage(tokens))
    ts = tokens.add_subparsers(dest="tokens_command", metavar="ACTION")
    create = ts.add_parser("create", help="print a new token alone on stdout (stored hashed)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--name", default="", help="what it is for, e.g. the ERP's name")
    create.set_defaults(func=cmd_tokens_create)
    tl = ts.add_parser("list", help="the tokens (never their secret)")
    add_json_flag(tl)
    tl.set_defaults(func=cmd_tokens_list)
    rv = ts.add_parser("revoke", help="revoke a token by its id (tokens list)")
    rv.add_argument("id", type=int)
    rv.set_defaults(func=cmd_tokens_revoke)


def _config(args: argparse.Namespace) -> Config:
    return load(args.config)


def cmd_web(args: argparse.Namespace) -> int:
    need_web()
    from cuckoo.web.context import WebContext  # FastAPI, uvicorn, argon2: the [web] extra
    from cuckoo.web.server import serve  # FastAPI, uvicorn, argon2: the [web] extra

    config = _config(args)
    listen = args.listen or config.web.listen or "127.0.0.1:8080"
    store = open_store(config)
    try:
        serve(WebContext(store, config), listen)
    finally:
        store.close()
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    need_web()
    # argon2: the [web] extra
    from cuckoo.web.passwords import hash_password, password_problem

    name = args.name.strip()
    if not name or len(name) > 100:
        raise InputError("users add: NAME: 1 to 100 characters")
    if args.role != "admin" and not args.tenant:
        raise InputError(f"users add: --tenant: a {args.role} sees one tenant's data; name it")
    password = sys.stdin.readline().rstrip("\r\n")
    problem = password_problem(password)
    if problem:
        raise InputError(f"users add: --password-stdin: {problem}")
    config = _config(args)
    store = open_store(config)
    try:
        existed = store.console.user(name) is not None
        now = datetime.now(UTC)
        store.console.add_user(name, args.role, args.tenant or None, hash_password(password), now)
        scope = f"tenant {args.tenant}" if args.tenant else "every tenant"
        store.console.audit(
            "cli", "user changed" if existed else "user added", name, f"{args.role}, {scope}", now
        )
    finally:
        store.close()
    print(f"{'changed' if existed else 'added'} user {name}: {args.role}, {scope}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    store = open_store(_config(args))
    try:
        users = store.console.users()
    finally:
        store.close()
    if wants_json(args):
        emit_json(
            [
                {"name": u.name, "role": u.role, "tenant": u.tenant, "created_at": u.created_at}
                for u in users
            ]
        )
        return 0
    rows = [[u.name, u.role, u.tenant or "*", f"{u.created_at:%Y-%m-%d %H:%M} UTC"] for u in users]
    show_table(["name", "role", "tenant", "added"], rows)
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    store = open_store(_config(args))
    try:
        removed = store.console.remove_user(args.name)
        if removed:
            store.console.audit("cli", "user removed", args.name, "", datetime.now(UTC))
    finally:
        store.close()
    if not removed:
        raise InputError(f"users remove: no user {args.name!r}")
    print(f"removed user {args.name}")
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    config = _config(args)
    store = open_store(config)
    try:
        now = datetime.now(UTC)
        row, token = store.console.create_token(args.tenant, args.name, now)
        store.console.audit("cli", "token created", f"token {row.id}", f"tenant {args.tenant}", now)
    finally:
        store.close()
    print(token)  # alone on stdout: TOKEN=$(cuckoo tokens create --tenant T)
    print(f"token {row.id} for tenant {args.tenant}: shown once, stored hashed", file=sys.stderr)
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    store = open_store(_config(args))
    try:
        tokens = store.console.tokens()
    finally:
        store.close()
    if wants_json(args):
        emit_json(
            [
                {
                    "id": t.id,
                    "name": t.name,
                    "tenant": t.tenant,
                    "created_at": t.created_at,
                    "revoked_at": t.revoked_at,
                }
                for t in tokens
            ]
        )
        return 0
    rows = [
        [
            str(t.id),
            t.name,
            t.tenant,
            f"{t.created_at:%Y-%m-%d %H:%M} UTC",
            f"{t.revoked_at:%Y-%m-%d %H:%M} UTC" if t.revoked_at else "",
        ]
        for t in tokens
    ]
    show_table(["id", "name", "tenant", "created", "revoked"], rows)
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    store = open_store(_config(args))
    try:
        now = datetime.now(UTC)
        revoked = store.console.revoke_token(args.id, now)
        if revoked:
            store.console.audit("cli", "token revoked", f"token {args.id}", "", now)
    finally:
        store.close()
    if not revoked:
        raise InputError(f"tokens revoke: no live token {args.id}")
    print(f"revoked token {args.id}")
    return 0
