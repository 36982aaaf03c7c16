"""The plain JSON webhook format of the `memory` and `console` gateways.

Both bodies are JSON arrays, so one request can carry a batch like the real providers' pushes:

- inbound: ``[{"id": "m-1", "from": "13912345678", "to": "10690000", "text": "求购葡萄苗",
  "received_at": "2026-11-22T02:51:05Z", "event": ""}]`` (`to`, `received_at`, `event` optional);
- receipts: ``[{"id": "mem-1", "status": "delivered", "detail": ""}]`` with status one of
  sent, delivered, failed.

The web layer serves these through the same `parse_inbound`/`parse_receipt` path as real providers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from gateways import DeliveryReceipt, InboundSms, ReceiptStatus, WebhookError, WebhookRequest
from gateways.common import field, json_objects, plausible

STATUSES = ("sent", "delivered", "failed")


def _received_at(item: Mapping[str, Any], where: str) -> datetime:
    raw = item.get("received_at")
    if raw is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(str(raw))
    except ValueError:
        raise WebhookError(400, f"{where}: bad received_at {raw!r}") from None
    if parsed.tzinfo is None:
        raise WebhookError(400, f"{where}: received_at needs a time zone")
    try:
        return plausible(parsed.astimezone(UTC), raw, f"{where}: received_at")
    except OverflowError:   # 0001-01-01T00:00+08:00 has no UTC
        raise WebhookError(400, f"{where}: bad received_at {raw!r}") from None


def parse_inbound(req: WebhookRequest) -> list[InboundSms]:
    """Decode an inbound batch; 400 names the item and field that is wrong."""
    messages = []
    for index, item in enumerate(json_objects(req)):
        where = f"item {index}"
        event = str(item.get("event") or "")
        text = item.get("text", "")
        if not isinstance(text, str) or (not text and not event):
            raise WebhookError(400, f"{where}: missing text")
        messages.append(
            InboundSms(
                sender=field(item, "from", where),
                text=text,
                external_id=field(item, "id", where),
                received_at=_received_at(item, where),
                recipient=str(item.get("to") or ""),
                event=event,
            )
        )
    return messages


def parse_receipts(req: WebhookRequest) -> list[DeliveryReceipt]:
    """Decode a receipt batch; 400 on an unknown status."""
    receipts = []
    for index, item in enumerate(json_objects(req)):
        where = f"item {index}"
        status = field(item, "status", where)
        if status not in STATUSES:
            raise WebhookError(400, f"{where}: unknown status {status!r}")
        detail = str(item.get("detail") or "")
        receipts.append(DeliveryReceipt(field(item, "id", where), cast(ReceiptStatus, status), detail))
    return receipts


def inbound_body(sender: str, text: str, external_id: str, **extra: str) -> bytes:
    """Encode one inbound message in this format (for tests and the dev console)."""
    item = {"id": external_id, "from": sender, "text": text, **extra}
    return json.dumps([item], ensure_ascii=False).encode("utf-8")


def receipt_body(external_id: str, status: ReceiptStatus, detail: str = "") -> bytes:
    """Encode one receipt in this format."""
    return json.dumps([{"id": external_id, "status": status, "detail": detail}]).encode("utf-8")
