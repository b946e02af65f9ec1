"""`docjobs keys ...`: manage API keys on the local stack or a deployed one.

    docjobs keys create --org acme --tier free          # on the running `make run` stack
    docjobs keys create --user alice --tier pro --accounts-table docjobs-AccountsTable-XYZ
    docjobs keys revoke sk_...
    docjobs keys list

Against the local stack it reads .docjobs/local.json (written by `make run`); against AWS it uses
your AWS credentials and the stack's AccountsTableName output (--accounts-table or
ACCOUNTS_TABLE).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from docjobs.config import DEFAULT_TIER_LIMITS


def _accounts(args: argparse.Namespace) -> Any:
    import boto3

    from docjobs.adapters.accounts_table import DynamoAccountsRepository

    table = args.accounts_table or os.environ.get("ACCOUNTS_TABLE")
    endpoint = args.endpoint_url
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    kwargs: dict[str, Any] = {}
    state_file = Path(args.state)
    if not table and state_file.is_file():  # the local stack
        state = json.loads(state_file.read_text())
        table = state["environment"]["ACCOUNTS_TABLE"]
        endpoint = endpoint or state["endpoint_url"]
        region = state["region"]
        kwargs = {"aws_access_key_id": "docjobs-local", "aws_secret_access_key": "docjobs-local"}
    if not table:
        sys.exit("No accounts table: start `make run`, or pass --accounts-table (the stack's AccountsTableName output).")
    client = boto3.client("dynamodb", region_name=region, endpoint_url=endpoint, **kwargs)
    return DynamoAccountsRepository(table, client)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docjobs", description="docjobs operator commands")
    parser.add_argument("--accounts-table", help="the AccountsTable name (default: the local stack's)")
    parser.add_argument("--endpoint-url", help="an AWS endpoint (default: the local stack's, or AWS)")
    parser.add_argument("--region")
    parser.add_argument("--state", default=".docjobs/local.json", help="the local stack's state file")
    commands = parser.add_subparsers(dest="group", required=True)
    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="command", required=True)
    create = keys.add_parser("create", help="create a key (printed once; only its hash is stored)")
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--org", help="organization id")
    owner.add_argument("--user", help="user id")
    create.add_argument("--tier", default="free", choices=sorted(DEFAULT_TIER_LIMITS))
    create.add_argument("--name", default="", help="a label for the key")
    revoke = keys.add_parser("revoke", help="revoke a key (it stops working within the key cache time, 60 s)")
    revoke.add_argument("api_key")
    keys.add_parser("list", help="list keys (prefix, owner, tier; never the key)")
    args = parser.parse_args(argv)

    from docjobs.adapters.accounts_table import hash_key
    from docjobs.domain import clock
    from docjobs.domain.jobs import Owner
    from docjobs.services.auth import issue_api_key

    accounts = _accounts(args)
    if args.command == "create":
        who = Owner("org", args.org) if args.org else Owner("user", args.user)
        api_key, _ = issue_api_key(accounts, who, tier=args.tier, tiers=DEFAULT_TIER_LIMITS, now=clock.now(), name=args.name)
        print(json.dumps({"api_key": api_key, "organization_id": who.organization_id, "user_id": who.user_id,
                          "tier": args.tier}, indent=2))  # fmt: skip
    elif args.command == "revoke":
        if not accounts.revoke_key(hash_key(args.api_key), clock.iso(clock.now())):
            print("no such key", file=sys.stderr)
            return 1
        print("revoked")
    else:
        for record in accounts.list_keys():
            print(f"{record.prefix}…  {record.owner.key:30}  {record.tier:10}  {'revoked' if record.revoked_at else 'active'}  {record.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
