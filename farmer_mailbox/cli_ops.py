"""Operator commands: serve, migrate, regions, audit, check-config, demo."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

from farmer_mailbox import cli_args
from farmer_mailbox.audit import NO_ANCHOR, verify_rows
from farmer_mailbox.clock import to_db
from farmer_mailbox.config import Config
from farmer_mailbox.demo import load_demo
from farmer_mailbox.models import Level, Region
from farmer_mailbox.privacy import mask_ids_in
from farmer_mailbox.region_import import RegionImportError, import_region_files, load_tree
from farmer_mailbox.regions import RegionTree, open_region_file, packaged_region_files, read_region_rows
from farmer_mailbox.serve_lock import AlreadyServing
from farmer_mailbox.services import open_services, vault_from_config
from farmer_mailbox.store import open_store
from farmer_mailbox.text.cli import add_parse_arguments

HEAD_ANCHOR_MIGRATION = 7   # 0007 added the record's head anchor
Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def _config(args: argparse.Namespace) -> Config:
    config: Config = args.config_obj
    return config


async def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP service until interrupted."""
    from farmer_mailbox.app import run_server

    config = _config(args)
    service = config.service
    service = replace(service, host=args.host or service.host, port=args.port or service.port,
                      demo=service.demo or args.demo)
    try:
        await run_server(replace(config, service=service))
    except AlreadyServing as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    return 0


async def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations to the configured database."""
    store = await open_store(_config(args).service.database)
    try:
        applied = await store.migrate()
        version = await store.schema_version()
    finally:
        await store.close()
    print(f"applied {len(applied)} migration(s); schema version {version}")
    return 0


async def cmd_regions_import(args: argparse.Namespace) -> int:
    """Load region CSV files (NBS/modood shapes or code,name,parent)."""
    store = await open_store(_config(args).service.database)
    try:
        await store.migrate()
        total = await import_region_files(store, [Path(p) for p in args.files])
        print(f"loaded {total} regions; {await store.region_count()} in the database")
    except (RegionImportError, OSError) as exc:
        print(f"region import failed: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    return 0


async def cmd_regions_resolve(args: argparse.Namespace) -> int:
    """Show how a free-text place name resolves."""
    services = await open_services(_config(args))
    try:
        result = services.tree.resolve(args.name, args.near)
        out = {
            "mention": result.mention, "ambiguous": result.ambiguous,
            "region": result.region and {
                "code": result.region.code, "path": services.tree.display(result.region.code, Level.PROVINCE)},
            "candidates": [{"code": r.code, "path": services.tree.display(r.code, Level.PROVINCE)}
                           for r in result.candidates[:20]],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
    finally:
        await services.close()
    return 0 if result.region else 1


async def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Check the hash chain of the message record; name the first broken entry."""
    store = await open_store(_config(args).service.database, must_exist=True)
    try:
        anchored = await store.schema_version() >= HEAD_ANCHOR_MIGRATION   # older files: no anchor yet
        head = await store.record_head() if anchored else NO_ANCHOR
        report = await verify_rows(store.iter_record_rows(), await store.record_referenced_max(), head)
    finally:
        await store.close()
    if report.ok:
        anchor = f"; head {head[0]} {head[1][:16]}" if head and head[0] > 0 else ""
        print(f"message record intact: {report.entries} entries verified{anchor}")
        return 0
    print(f"message record BROKEN at entry {report.first_broken}: {report.reason} "
          f"({report.entries} entries read)")
    return 1


async def cmd_audit_tail(args: argparse.Namespace) -> int:
    """Print the latest record entries (ID numbers masked, also in entries stored before 0007)."""
    store = await open_store(_config(args).service.database, must_exist=True)
    try:
        for entry in reversed(await store.record_tail(args.n)):
            print(json.dumps({"id": entry.id, "at": to_db(entry.at), "kind": entry.kind,
                              "channel": entry.channel, "user_id": entry.user_id, "text": mask_ids_in(entry.text),
                              "detail": mask_ids_in(entry.detail)}, ensure_ascii=False))
    finally:
        await store.close()
    return 0


async def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate the configuration (and its secrets) without starting anything."""
    config = _config(args)
    vault_from_config(config)
    from farmer_mailbox.gateway_setup import check_gateways

    await check_gateways(config)
    print(f"configuration OK ({config.source}); gateways: {', '.join(sorted(config.gateways))}")
    return 0


async def _parse_tree(config: Config) -> RegionTree:
    """The database's regions when the database exists (imports count), else the packaged ones."""
    if Path(config.service.database).exists():
        store = await open_store(config.service.database)
        try:
            if await store.schema_version() and await store.region_count():
                return await load_tree(store)
        finally:
            await store.close()
    regions: list[Region] = []
    for path in packaged_region_files():
        with open_region_file(path) as fh:
            regions.extend(read_region_rows(fh, str(path)))
    return RegionTree(regions)


async def cmd_parse(args: argparse.Namespace) -> int:
    """Print how the mailbox reads messages: one JSON object per input line."""
    from farmer_mailbox.places import TreePlaces
    from farmer_mailbox.text.cli import run_parse

    places = TreePlaces(await _parse_tree(_config(args)))
    if isinstance(sys.stdin, io.TextIOWrapper):   # bytes that are no UTF-8 read as U+FFFD, as the webhooks do
        sys.stdin.reconfigure(errors="replace")
    return run_parse(args, places, sys.stdin, sys.stdout)


async def cmd_demo(args: argparse.Namespace) -> int:
    """Load the demo population (idempotent)."""
    services = await open_services(_config(args))
    try:
        added = await load_demo(services.accounts)
    finally:
        await services.close()
    print(f"demo users added: {added}")
    return 0


OPS_COMMANDS: dict[str, Handler] = {
    "serve": cmd_serve, "migrate": cmd_migrate, "regions.import": cmd_regions_import,
    "regions.resolve": cmd_regions_resolve, "audit.verify": cmd_audit_verify,
    "audit.tail": cmd_audit_tail, "check-config": cmd_check_config, "demo": cmd_demo, "parse": cmd_parse,
}


def add_ops_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the operator subcommands."""
    serve = sub.add_parser("serve", help="run the service (webhooks, API, outbox, scheduler)")
    serve.add_argument("--host", type=cli_args.host, help="bind address (default from config: 127.0.0.1)")
    serve.add_argument("--port", type=cli_args.port, help="port (default from config: 8080)")
    serve.add_argument("--demo", action="store_true", help="demo mode: demo ID key and demo users")
    serve.set_defaults(handler="serve")
    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler="migrate")

    regions = sub.add_parser("regions", help="the region tree").add_subparsers(
        dest="regions_command", metavar="ACTION", required=True)
    imp = regions.add_parser("import", help="load region CSV files (parents before children)")
    imp.add_argument("files", nargs="+", metavar="FILE", help="CSV or CSV.gz with code,name[,parent]")
    imp.set_defaults(handler="regions.import")
    res = regions.add_parser("resolve", help="show how a place name resolves")
    res.add_argument("name", help="free-text place name, e.g. 慈溪横河镇")
    res.add_argument("--near", metavar="CODE", help="12-digit code of the sender's village")
    res.set_defaults(handler="regions.resolve")

    audit = sub.add_parser("audit", help="the tamper-evident message record").add_subparsers(
        dest="audit_command", metavar="ACTION", required=True)
    audit.add_parser("verify", help="check the hash chain; name the first broken entry").set_defaults(
        handler="audit.verify")
    tail = audit.add_parser("tail", help="print the latest entries")
    tail.add_argument("-n", type=cli_args.count, default=20, help="how many entries (default 20)")
    tail.set_defaults(handler="audit.tail")

    sub.add_parser("check-config", help="validate configuration and secrets").set_defaults(
        handler="check-config")
    sub.add_parser("demo", help="load the demo population (idempotent)").set_defaults(handler="demo")
    parse = sub.add_parser("parse", help="show how messages are read (stdin lines or --text), as JSON lines")
    add_parse_arguments(parse)
    parse.set_defaults(handler="parse")
