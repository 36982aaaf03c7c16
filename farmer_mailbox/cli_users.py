"""Account commands: users add/import/show/set/export/token, and liaison points."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from farmer_mailbox.accounts import RegistrationForm
from farmer_mailbox.config import Config
from farmer_mailbox.models import Channel
from farmer_mailbox.privacy import mask_ids_in, mask_phones_in
from farmer_mailbox.scoping import Actor, can_see_phones, can_see_record
from farmer_mailbox.services import Services, open_services
from farmer_mailbox.user_import import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, CsvFormatError, decode_csv, import_users

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


async def _actor(services: Services, by: str | None) -> Actor:
    """The operator, or the staff user named by --by PHONE (whose scope then applies)."""
    if not by:
        return await services.accounts.actor_for(None, Channel.CLI)
    user = await services.accounts.find(by)
    return await services.accounts.actor_for(user, Channel.CLI)


def _split(words: str | None) -> tuple[str, ...]:
    return tuple(w for w in (words or "").replace("，", ",").replace("、", ",").split(",") if w.strip())


def _ticker(bar: Any) -> Callable[[int], None]:
    def tick(n: int) -> None:
        bar.update(n)

    return tick


def _shown(viewer: Actor, text: str) -> str:
    """A record text as the viewer may read it: ID numbers masked (entries from before 0007 too),
    phones masked for non-staff."""
    text = mask_ids_in(text)
    return text if can_see_phones(viewer) else mask_phones_in(text)


def _print(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


async def _with_services(args: argparse.Namespace, body: Callable[[Services, Actor], Awaitable[int]]) -> int:
    config: Config = args.config_obj
    services = await open_services(config)
    try:
        return await body(services, await _actor(services, getattr(args, "by", None)))
    finally:
        await services.close()


async def cmd_users_add(args: argparse.Namespace) -> int:
    """Register one user."""
    form = RegistrationForm(
        name=args.name, id_number=args.id_number, phone=args.phone, village=args.village,
        role=args.role, interests=_split(args.interests), liaison_point=args.liaison_point or "",
        county=args.county or "",
    )

    async def body(services: Services, actor: Actor) -> int:
        user = await services.accounts.register(actor, form)
        _print(services.accounts.view(actor, user))
        return 0

    return await _with_services(args, body)


async def cmd_users_import(args: argparse.Namespace) -> int:
    """Import registrations from a CSV file, reporting each refused row."""

    async def body(services: Services, actor: Actor) -> int:
        from tqdm import tqdm

        try:
            with open(args.csv, "rb") as fh:
                lines = decode_csv(fh.read()).splitlines(keepends=True)
        except OSError as exc:
            print(f"cannot read {args.csv}: {exc}", file=sys.stderr)
            return 2
        except CsvFormatError as exc:
            print(f"{args.csv}: {exc}", file=sys.stderr)
            return 2
        try:
            with tqdm(total=max(len(lines) - 1, 0), desc="checking rows", unit="rows", file=sys.stderr) as bar:
                report = await import_users(services.accounts, actor, lines, _ticker(bar))
        except CsvFormatError as exc:   # after the bar is closed, so the message has a line of its own
            print(f"{args.csv}: {exc}", file=sys.stderr)
            return 2
        if report.ignored:
            print(f"{args.csv}: ignored column(s) {', '.join(report.ignored)}; the columns read are "
                  f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}", file=sys.stderr)
        for err in report.errors:
            print(f"line {err.line}: {err.message} ({err.code})")
        print(report.summary())
        return 0 if not report.errors else 1

    return await _with_services(args, body)


async def cmd_users_show(args: argparse.Namespace) -> int:
    """Show one user (ID masked; phone masked unless the viewer is staff), with their latest
    messages to staff in scope and to the user themself (other people's phones masked for non-staff)."""

    async def body(services: Services, actor: Actor) -> int:
        user = await services.accounts.find(args.phone)
        view = services.accounts.view(actor, user)
        if can_see_record(actor, user):
            view["record"] = [
                {"id": e.id, "kind": e.kind, "channel": e.channel, "text": _shown(actor, e.text)}
                for e in await services.store.record_for_user(user.id, 10)
            ]
        _print(view)
        return 0

    return await _with_services(args, body)


async def cmd_users_set(args: argparse.Namespace) -> int:
    """Edit a user within the actor's scope."""
    changes: dict[str, object] = {}
    if args.status:
        changes["status"] = args.status
    if args.flagged is not None:
        changes["flagged"] = args.flagged
    if args.village:
        changes["village"] = args.village
    if args.interests is not None:
        changes["interests"] = list(_split(args.interests))

    async def body(services: Services, actor: Actor) -> int:
        user = await services.accounts.update(actor, args.phone, **changes)
        _print(services.accounts.view(actor, user))
        return 0

    return await _with_services(args, body)


async def cmd_users_export(args: argparse.Namespace) -> int:
    """Admin export with clear ID numbers, as CSV on stdout; recorded in the message record."""

    async def body(services: Services, actor: Actor) -> int:
        rows = await services.accounts.export_unmasked(actor, args.reason)
        columns = ["id", "name", "phone", "id_number", "village_code", "village", "role", "status"]
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        print(f"exported {len(rows)} users (recorded)", file=sys.stderr)
        return 0

    return await _with_services(args, body)


async def cmd_users_token(args: argparse.Namespace) -> int:
    """Issue a JSON API bearer token for a staff user."""

    async def body(services: Services, actor: Actor) -> int:
        print(await services.accounts.issue_token(actor, args.phone, args.label))
        return 0

    return await _with_services(args, body)


async def cmd_points_add(args: argparse.Namespace) -> int:
    """Create a liaison point covering villages."""

    async def body(services: Services, actor: Actor) -> int:
        point_id = await services.accounts.create_liaison_point(actor, args.name, list(_split(args.villages)))
        print(f"liaison point {point_id} created")
        return 0

    return await _with_services(args, body)


async def cmd_points_list(args: argparse.Namespace) -> int:
    """List liaison points and their villages."""

    async def body(services: Services, actor: Actor) -> int:
        for point in await services.store.list_liaison_points():
            names = [services.tree.display(v) for v in point.villages]
            print(f"{point.id}\t{point.name}\t{'、'.join(names)}")
        return 0

    return await _with_services(args, body)


USER_COMMANDS: dict[str, Handler] = {
    "users.add": cmd_users_add, "users.import": cmd_users_import, "users.show": cmd_users_show,
    "users.set": cmd_users_set, "users.export": cmd_users_export, "users.token": cmd_users_token,
    "points.add": cmd_points_add, "points.list": cmd_points_list,
}

_BY_HELP = "act as this staff user (their scope applies); default: the operator"


def add_user_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the account subcommands."""
    users = sub.add_parser("users", help="real-name accounts").add_subparsers(
        dest="users_command", metavar="ACTION", required=True)
    add = users.add_parser("add", help="register one user")
    add.add_argument("--name", required=True, help="real name")
    add.add_argument("--id-number", required=True, help="18-character resident ID number")
    add.add_argument("--phone", required=True, help="11-digit mainland mobile number")
    add.add_argument("--village", required=True, help="village name (杨高村) or 12-digit code")
    add.add_argument("--role", default="farmer", choices=["farmer", "liaison", "officer", "admin"])
    add.add_argument("--interests", help="crops or products followed, comma-separated")
    add.add_argument("--liaison-point", help="liaison point name or id (liaisons)")
    add.add_argument("--county", help="6- or 12-digit county code (officers)")
    add.add_argument("--by", metavar="PHONE", help=_BY_HELP)
    add.set_defaults(handler="users.add")

    imp = users.add_parser("import", help="import registrations from CSV (name,id_number,phone,village,...)")
    imp.add_argument("csv", metavar="CSV", help="CSV with a header line, UTF-8 or GBK (as Excel saves it)")
    imp.add_argument("--by", metavar="PHONE", help=_BY_HELP)
    imp.set_defaults(handler="users.import")

    show = users.add_parser("show", help="show one user, masked (their messages: staff in scope only)")
    show.add_argument("phone", metavar="PHONE")
    show.add_argument("--by", metavar="PHONE",
                      help="view as this user (phones masked for non-staff; messages only within their scope)")
    show.set_defaults(handler="users.show")

    set_ = users.add_parser("set", help="edit a user (status, flag, village, interests)")
    set_.add_argument("phone", metavar="PHONE")
    set_.add_argument("--status", choices=["active", "opted_out", "suspended"])
    set_.add_argument("--flag", dest="flagged", action="store_true", default=None,
                      help="flag: their postings wait for liaison approval")
    set_.add_argument("--unflag", dest="flagged", action="store_false")
    set_.add_argument("--village", help="move to another village")
    set_.add_argument("--interests", help="replace followed products, comma-separated")
    set_.add_argument("--by", metavar="PHONE", help=_BY_HELP)
    set_.set_defaults(handler="users.set")

    export = users.add_parser("export", help="admin export with clear ID numbers (audited)")
    export.add_argument("--reason", required=True, help="why the export is needed (recorded)")
    export.add_argument("--by", metavar="PHONE", required=True, help="the admin exporting")
    export.set_defaults(handler="users.export")

    token = users.add_parser("token", help="issue a JSON API token for a staff user")
    token.add_argument("phone", metavar="PHONE")
    token.add_argument("--label", default="", help="what the token is for")
    token.add_argument("--by", metavar="PHONE", help="the admin issuing it; default: the operator")
    token.set_defaults(handler="users.token")

    points = sub.add_parser("points", help="village liaison points").add_subparsers(
        dest="points_command", metavar="ACTION", required=True)
    padd = points.add_parser("add", help="create a liaison point")
    padd.add_argument("name")
    padd.add_argument("--villages", required=True, help="village names or codes, comma-separated")
    padd.add_argument("--by", metavar="PHONE", help=_BY_HELP)
    padd.set_defaults(handler="points.add")
    points.add_parser("list", help="list liaison points").set_defaults(handler="points.list")
