"""Alert commands: alerts create/preview/list/show/cancel, approve/discard drafts, confirm over budget.

The CLI writes alerts to the database; the serving process's scheduler fans them out and the
outbox sends them. `--follow` (on show, create, confirm and approve) draws live bars (sent,
delivered, failed) from the database until the alert is done or cancelled, so it works from any
shell on the server; when stderr is not a terminal (a log, a pipe) it writes one plain line per
change instead. With --follow, stdout gets one JSON document once the alert is done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from typing import IO, Any

from farmer_mailbox import cli_args
from farmer_mailbox.alerts.costs import local_iso
from farmer_mailbox.alerts.forms import alert_view, draft_from, param_pairs, parse_when, words
from farmer_mailbox.alerts.model import FINAL, Alert, Progress, Status
from farmer_mailbox.alerts.service import AlertService
from farmer_mailbox.cli_users import _with_services
from farmer_mailbox.scoping import Actor
from farmer_mailbox.services import Services

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
BARS = (("sent", "已发出"), ("delivered", "已送达"), ("failed", "失败"))


def _print(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _service(services: Services) -> AlertService:
    return AlertService(services.store, services.tree, services.config, services.clock,
                        canonical=services.accounts.canonical_interests)


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    return {"kind": args.kind, "severity": args.severity, "template": args.template,
            "params": param_pairs(args.param), "regions": args.regions, "crops": args.crops,
            "roles": args.roles, "send_at": args.at, "expires_at": args.expires, "note": args.note}


async def cmd_alerts_preview(args: argparse.Namespace) -> int:
    """Show recipients, segments and cost by town for an alert, without creating it."""

    async def body(services: Services, actor: Actor) -> int:
        alerts = _service(services)
        preview = await alerts.preview(actor, draft_from(_fields(args), services.clock.now(), alerts.zone))
        _print(preview.as_dict())
        return 0

    return await _with_services(args, body)


async def cmd_alerts_create(args: argparse.Namespace) -> int:
    """Create an alert (scheduled; held for an admin when over the bureau's budget)."""

    async def body(services: Services, actor: Actor) -> int:
        alerts = _service(services)
        draft = draft_from(_fields(args), services.clock.now(), alerts.zone)
        alert, preview = await alerts.create(actor, draft, confirm_budget=args.confirm_budget)
        if alert.status is Status.HELD:
            print(f"alert {alert.id} is held: it would exceed the bureau's monthly budget; an admin must run "
                  f"`farmer-mailbox alerts confirm {alert.id}`", file=sys.stderr)
        progress = None
        if args.follow:
            await follow(alerts, actor, alert.id, args.interval)
            alert, progress = await alerts.progress(actor, alert.id)
        _print({"alert": alert_view(alert, services.tree, progress), "preview": preview.as_dict()})
        return 0

    return await _with_services(args, body)


async def cmd_alerts_list(args: argparse.Namespace) -> int:
    """List the latest alerts the actor may see."""

    async def body(services: Services, actor: Actor) -> int:
        alerts = _service(services)
        for alert in await alerts.list_alerts(actor, args.status, args.limit):
            view = alert_view(alert, services.tree)
            print(f"{alert.id}\t{alert.status.value}\t{alert.kind.value}\t{view['send_at']}\t"
                  f"{alert.recipients}人\t{alert.cost_yuan:.2f}元\t{str(view['text'])[:40]}")
        return 0

    return await _with_services(args, body)


async def cmd_alerts_show(args: argparse.Namespace) -> int:
    """Show an alert with its progress; --follow draws live bars until it is done."""

    async def body(services: Services, actor: Actor) -> int:
        alerts = _service(services)
        if args.follow:
            await follow(alerts, actor, args.id, args.interval)
        alert, progress = await alerts.progress(actor, args.id)
        _print(alert_view(alert, services.tree, progress))
        return 0

    return await _with_services(args, body)


async def follow(alerts: AlertService, actor: Actor, alert_id: int, interval: float,
                 stream: IO[str] | None = None) -> None:
    """Draw sent, delivered and failed copies until the alert is sent, cancelled or expired: live
    bars on a terminal, else one plain line whenever the figures change. Returns at once for a
    draft or a held alert (nothing goes until someone acts)."""
    out = stream or sys.stderr
    alert, progress = await alerts.progress(actor, alert_id)
    if alert.status in (Status.DRAFT, Status.HELD):
        print(f"alert {alert_id} is {alert.status.value}: nothing is being sent", file=out)
        return
    if alert.status is Status.SCHEDULED and alert.send_at > alerts.clock.now():
        print(f"alert {alert_id} goes at {local_iso(alert.send_at, alerts.zone)}; following until it is done "
              "(Ctrl-C stops following, not the alert)", file=out)
    view: _Bars | _Lines = _Bars(out) if out.isatty() else _Lines(out)
    try:
        while True:
            view.show(alert, progress)
            if alert.status in FINAL:
                return
            await asyncio.sleep(interval)
            alert, progress = await alerts.progress(actor, alert_id)
    finally:
        view.close()


def _figures(alert: Alert, progress: Progress) -> tuple[int, dict[str, int]]:
    counts = progress.as_dict()
    return max(alert.recipients, progress.total, 1), {key: int(str(counts[key])) for key, _ in BARS}


class _Bars:
    """tqdm bars, one per figure, redrawn in place (a terminal)."""

    def __init__(self, out: IO[str]) -> None:
        from tqdm import tqdm

        self.bars = [tqdm(total=1, desc=label, unit="条", position=i, file=out, dynamic_ncols=True)
                     for i, (_, label) in enumerate(BARS)]

    def show(self, alert: Alert, progress: Progress) -> None:
        total, figures = _figures(alert, progress)
        for bar, (key, _) in zip(self.bars, BARS, strict=True):
            bar.total, bar.n = total, figures[key]
            bar.set_postfix_str(alert.status.value, refresh=False)
            bar.refresh()

    def close(self) -> None:
        for bar in self.bars:
            bar.close()


class _Lines:
    """Plain lines, written only when something changed (a log file or a pipe)."""

    def __init__(self, out: IO[str]) -> None:
        self.out, self.last = out, ""

    def show(self, alert: Alert, progress: Progress) -> None:
        total, figures = _figures(alert, progress)
        line = f"alert {alert.id} {alert.status.value}: " + "  ".join(
            f"{label} {figures[key]}/{total}" for key, label in BARS)
        if line != self.last:
            print(line, file=self.out, flush=True)
            self.last = line

    def close(self) -> None:
        """Nothing to clean up."""


def _simple(name: str, doc: str, act: Callable[[AlertService, Actor, argparse.Namespace], Any]) -> Handler:
    async def handler(args: argparse.Namespace) -> int:
        async def body(services: Services, actor: Actor) -> int:
            alerts = _service(services)
            alert = await act(alerts, actor, args)
            progress = None
            if getattr(args, "follow", False):
                await follow(alerts, actor, alert.id, args.interval)
                alert, progress = await alerts.progress(actor, alert.id)
            _print(alert_view(alert, services.tree, progress))
            return 0

        return await _with_services(args, body)

    handler.__name__, handler.__doc__ = f"cmd_alerts_{name}", doc
    return handler


async def _approve(alerts: AlertService, actor: Actor, args: argparse.Namespace) -> Any:
    when = parse_when(args.at, alerts.clock.now(), alerts.zone)
    return await alerts.approve(actor, args.id, when, params=param_pairs(args.param), regions=words(args.regions))


ALERT_COMMANDS: dict[str, Handler] = {
    "alerts.preview": cmd_alerts_preview, "alerts.create": cmd_alerts_create, "alerts.list": cmd_alerts_list,
    "alerts.show": cmd_alerts_show,
    "alerts.cancel": _simple("cancel", "Cancel an alert: unsent copies stop at once.",
                             lambda s, a, args: s.cancel(a, args.id, args.reason)),
    "alerts.confirm": _simple("confirm", "An admin lets an alert held over budget go.",
                              lambda s, a, args: s.confirm(a, args.id)),
    "alerts.approve": _simple("approve", "Approve a pest-calendar draft.", _approve),
    "alerts.discard": _simple("discard", "Discard a pest-calendar draft.", lambda s, a, args: s.discard(a, args.id)),
}

_BY_HELP = "act as this staff user (officers: their county only); default: the operator"
_TIME_HELP = "now (default), 07:00 (the next 07:00), 明天07:00, or 2026-07-08 07:00"


def _draft_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", required=True, choices=["weather", "pest", "market", "notice"])
    parser.add_argument("--severity", choices=["blue", "yellow", "orange", "red"],
                        help="weather colour; orange and red go at once, night or not")
    parser.add_argument("--template", help="template key (default: the kind's: weather_warning, pest_alert, "
                        "market_notice, bureau_notice)")
    parser.add_argument("--param", action="append", metavar="KEY=VALUE",
                        help="a template parameter, repeatable (e.g. --param pest=稻飞虱)")
    parser.add_argument("--regions", required=True,
                        help="towns, counties or villages (names or codes), comma-separated")
    parser.add_argument("--crops", help="only users following these crops or categories, comma-separated")
    parser.add_argument("--roles", help="farmer, liaison, officer, admin (default: all), comma-separated")
    parser.add_argument("--at", help=f"send time: {_TIME_HELP}")
    parser.add_argument("--expires", help="unsent copies expire at this time (default: [alerts] default_expiry_hours)")
    parser.add_argument("--note", default="", help="an internal note (not sent)")
    parser.add_argument("--by", metavar="PHONE", help=_BY_HELP)


def _follow_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--follow", action="store_true",
                        help="live bars (sent, delivered, failed) until the alert is done or cancelled")
    parser.add_argument("--interval", type=cli_args.interval, default=1.0,
                        help="seconds between refreshes with --follow (default 1)")


def add_alert_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the alert subcommands."""
    alerts = sub.add_parser("alerts", help="bureau alerts: weather, pests, market, notices").add_subparsers(
        dest="alerts_command", metavar="ACTION", required=True)
    preview = alerts.add_parser("preview", help="recipients, segments and cost by town, without sending")
    _draft_args(preview)
    preview.set_defaults(handler="alerts.preview")
    create = alerts.add_parser("create", help="create an alert (sent at its time by the running service)")
    _draft_args(create)
    create.add_argument("--confirm-budget", action="store_true", help="admins: go even over the bureau's budget")
    _follow_args(create)
    create.set_defaults(handler="alerts.create")

    listing = alerts.add_parser("list", help="latest alerts")
    listing.add_argument("--status", choices=[s.value for s in Status])
    listing.add_argument("--limit", type=cli_args.count, default=30, help="at most this many (default 30)")
    listing.add_argument("--by", metavar="PHONE", help=_BY_HELP)
    listing.set_defaults(handler="alerts.list")

    show = alerts.add_parser("show", help="one alert and its progress")
    show.add_argument("id", type=cli_args.record_id, metavar="ID")
    _follow_args(show)
    show.add_argument("--by", metavar="PHONE", help=_BY_HELP)
    show.set_defaults(handler="alerts.show")

    for name, text in (("cancel", "cancel an alert; unsent copies stop at once"),
                       ("confirm", "admins: let an alert held over budget go"),
                       ("approve", "approve a pest-calendar draft"), ("discard", "discard a pest-calendar draft")):
        action = alerts.add_parser(name, help=text)
        action.add_argument("id", type=cli_args.record_id, metavar="ID")
        action.add_argument("--by", metavar="PHONE", help=_BY_HELP)
        if name == "cancel":
            action.add_argument("--reason", default="", help="why (recorded)")
        if name == "approve":
            action.add_argument("--at", help=f"send time (default: the draft's): {_TIME_HELP}")
            action.add_argument("--regions", help="narrow to these towns (names or codes), comma-separated")
            action.add_argument("--param", action="append", metavar="KEY=VALUE", help="edit a template parameter")
        if name in ("confirm", "approve"):
            _follow_args(action)
        action.set_defaults(handler=f"alerts.{name}")
