"""``pad keys create|list|revoke``: the server's API keys, stored hashed in the preference database.

``pad keys create`` prints what it made on stderr-free stdout and the new key alone on the LAST line, so a
script can take it with ``tail -n 1``; the key is shown once and never stored (only its sha256 is).
Never loads torch.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pad_integrations.cli.common import CLIError, add_json_argument, print_json, redact_url, user_id

if TYPE_CHECKING:
    from pad_integrations.server.auth import KeyStore

HELP = "create, list or revoke the API keys of `pad serve` (user, tenant or admin keys)"
DB_ENV = "PAD_MEMORY_URL"


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help=f"SQLAlchemy URL of the preference store the server uses (default: ${DB_ENV}, "
                        "else SQLite in the user data dir)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="make a key; the key alone is printed on the last line")
    _db(create)
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="ID", type=user_id, help="a key that acts as this user only")
    who.add_argument("--tenant", metavar="NAMESPACE", type=user_id,
                     help="a key that acts for any user of this namespace")
    who.add_argument("--admin", action="store_true", help="a key that acts everywhere and manages keys")
    create.add_argument("--namespace", default="default", type=user_id,
                        help="the user's namespace, for --user (default: default)")
    create.add_argument("--note", help="a label shown by `pad keys list` (at most 200 characters)")
    listing = sub.add_parser("list", help="the keys (never their secrets)")
    _db(listing)
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    add_json_argument(listing)
    revoke = sub.add_parser("revoke", help="revoke a key by its id (or the key itself)")
    _db(revoke)
    revoke.add_argument("key_id", help="the id `pad keys list` shows, or the whole key")


def open_keys(url: str | None) -> KeyStore:
    """The keys table of the database at ``url``, migrated to the current schema (no memory, no torch)."""
    from memory.db import create_store_engine, default_url, upgrade
    from pad_integrations.server.auth import KeyStore

    url = url or default_url()
    try:
        engine = create_store_engine(url)
        upgrade(engine)
    except ValueError as exc:
        raise CLIError(f"bad --db {redact_url(url)}: {exc}", code=2) from None
    except Exception as exc:
        raise CLIError(f"could not open the database {redact_url(url)}: {redact_url(str(exc))}") from None
    return KeyStore(engine, cache_s=0)


def _row(info: Any) -> str:
    who = {"user": f"user {info.user_id!r} in {info.namespace!r}", "tenant": f"tenant {info.namespace!r}",
           "admin": "admin"}[info.role]
    state = "" if info.active else f"  REVOKED {info.revoked_at:%Y-%m-%d %H:%M:%S}"
    note = f"  ({info.note})" if info.note else ""
    return f"  {info.key_id}  {info.created_at:%Y-%m-%d %H:%M:%S}  {who}{note}{state}"


def _create(keys: KeyStore, args: argparse.Namespace) -> None:
    if args.admin:
        key, info = keys.create("admin", note=args.note)
    elif args.tenant is not None:
        key, info = keys.create("tenant", namespace=args.tenant, note=args.note)
    else:
        key, info = keys.create("user", namespace=args.namespace, user_id=args.user, note=args.note)
    print(f"Created key {info.key_id} for {info.principal().describe()}.")
    print("It is shown once and stored only as a hash; send it as 'Authorization: Bearer <key>':")
    print(key)


def _list(keys: KeyStore, args: argparse.Namespace) -> None:
    infos = keys.list(include_revoked=args.all)
    if args.json:
        print_json([info.to_dict() for info in infos])
        return
    if not infos:
        print("No keys." if args.all else "No active keys (create one with `pad keys create`).")
    for info in infos:
        print(_row(info))


def _revoke(keys: KeyStore, args: argparse.Namespace) -> None:
    if not keys.revoke(args.key_id):
        raise CLIError(f"no active key {args.key_id!r}", code=1)
    print(f"Revoked {args.key_id}.")


ACTIONS = {"create": _create, "list": _list, "revoke": _revoke}


def run(args: argparse.Namespace) -> int:
    keys = open_keys(args.db)
    try:
        ACTIONS[args.action](keys, args)
    finally:
        keys.engine.dispose()
    return 0
