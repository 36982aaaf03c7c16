"""GET /healthz: what a monitor polls: database reachable, schema version, queue depths, workers."""

from __future__ import annotations

from farmer_mailbox import __version__
from farmer_mailbox.outbox import Message
from farmer_mailbox.store.sqlite import migration_files
from tests.web.rig import AppClient, MakeClient, runtime_of


async def test_a_healthy_service_reports_its_queues_and_workers(make_client: MakeClient) -> None:
    client = await make_client(workers=True)
    response = await client.get("/healthz")
    body = await response.json()
    assert response.status == 200 and response.content_type == "application/json"
    scheduler = body.pop("scheduler")
    assert body == {
        "status": "ok", "version": __version__,
        "database": {"reachable": True, "schema_version": max(n for n, _, _ in migration_files())},
        "queues": {"inbound_pending": 0, "outbox": {"queued": 0, "errored": 0, "sending": 0}},
        "workers": {"outbox": "running", "inbox": "running", "market": "running"},
        "market": {"open_postings_indexed": 0},
        "alerts": {"held": 0, "drafts": 0},
    }
    assert {"runs", "failures", "last_error", "next_run"} <= set(scheduler["fanout"])


async def test_queue_depths_count_what_waits(client: AppClient) -> None:
    outbox = runtime_of(client).outbox     # no dispatcher running: what is enqueued stays queued
    await outbox.send_now(*(Message(f"health:{i}", "reply", f"1390000{i:04d}", "help", {}) for i in range(3)))
    body = await (await client.get("/healthz")).json()
    assert body["queues"]["outbox"] == {"queued": 3, "errored": 0, "sending": 0}


async def test_an_unreachable_database_is_a_503(client: AppClient) -> None:
    await runtime_of(client).services.store.close()
    response = await client.get("/healthz")
    assert response.status == 503
    assert await response.json() == {"status": "error", "version": __version__, "database": {"reachable": False}}
