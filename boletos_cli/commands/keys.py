"""``boletos keys``: make, list and revoke API keys (admin role), through the ingest service."""

from __future__ import annotations

import argparse

from rich.console import Console

from boletos.v1 import keys_pb2, keys_pb2_grpc
from boletos_cli import render
from boletos_cli.channels import INGEST, Endpoints, service_channel
from boletos_cli.failures import EXIT_OK

CALL_TIMEOUT_SECONDS = 30.0
ROLES = ("uploader", "viewer", "operator", "admin", "service")


def add_parser(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser(
        "keys",
        help="make, list and revoke API keys (admin)",
        description="API keys for machines and people. A key is printed once, when made; "
        "the services keep only a hash of it. Needs an admin key.",
    )
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a key and print it, once")
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument(
        "--beneficiary",
        dest="beneficiaries",
        action="append",
        default=[],
        metavar="KEY",
        help="an uploader key uploads for this beneficiary only (repeat for several; "
        "default: every one)",
    )
    create.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    create.set_defaults(handler=run_create)
    listed = actions.add_parser("list", help="list every key, revoked ones too")
    listed.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    listed.set_defaults(handler=run_list)
    revoke = actions.add_parser("revoke", help="stop a key from working, for good")
    revoke.add_argument("key_id", metavar="KEY_ID")
    revoke.set_defaults(handler=run_revoke)


def _role_name(number: int) -> str:
    return keys_pb2.KeyRole.Name(number).removeprefix("KEY_ROLE_").lower()


def key_dict(key: keys_pb2.ApiKey) -> dict[str, object]:
    return {
        "key_id": key.key_id,
        "name": key.name,
        "role": _role_name(key.role),
        "created_at": render.timestamp_text(key.created_at, True),
        "revoked_at": render.timestamp_text(key.revoked_at, key.HasField("revoked_at")),
        "beneficiaries": list(key.beneficiaries),
    }


async def run_create(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    async with service_channel(INGEST.name, endpoints.ingest) as channel:
        made = await keys_pb2_grpc.KeyServiceStub(channel).CreateKey(
            keys_pb2.CreateKeyRequest(
                name=args.name,
                role=f"KEY_ROLE_{args.role.upper()}",
                beneficiaries=args.beneficiaries,
            ),
            timeout=CALL_TIMEOUT_SECONDS,
        )
    if args.as_json:
        render.print_json({**key_dict(made.key), "secret_key": made.secret_key})
        return EXIT_OK
    # The key alone on stdout, so `boletos keys create ... > key-file` keeps just it.
    print(made.secret_key)
    err.print(
        f"key {made.key.key_id} ({args.role}) made; it is shown only this once",
        markup=False,
    )
    return EXIT_OK


async def run_list(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    async with service_channel(INGEST.name, endpoints.ingest) as channel:
        response = await keys_pb2_grpc.KeyServiceStub(channel).ListKeys(
            keys_pb2.ListKeysRequest(), timeout=CALL_TIMEOUT_SECONDS
        )
    rows = [key_dict(k) for k in response.keys]
    if args.as_json:
        render.print_json({"keys": rows})
        return EXIT_OK
    table = render.listing("API keys")
    for column in ("key id", "name", "role", "created", "revoked"):
        table.add_column(column, overflow="fold")
    for row in rows:
        limited = ", ".join(str(b) for b in row["beneficiaries"])  # type: ignore[attr-defined]
        table.add_row(
            str(row["key_id"]),
            render.untrusted(str(row["name"])),
            f"{row['role']} ({limited})" if limited else str(row["role"]),
            str(row["created_at"] or ""),
            str(row["revoked_at"] or ""),
        )
    out.print(table)
    return EXIT_OK


async def run_revoke(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    async with service_channel(INGEST.name, endpoints.ingest) as channel:
        response = await keys_pb2_grpc.KeyServiceStub(channel).RevokeKey(
            keys_pb2.RevokeKeyRequest(key_id=args.key_id), timeout=CALL_TIMEOUT_SECONDS
        )
    out.print(f"key {response.key.key_id} revoked", markup=False)
    return EXIT_OK
