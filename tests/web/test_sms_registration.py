"""Registration by SMS (注册 / ZC from a liaison's phone) through the real app and its webhooks.

The replies a liaison gets for every outcome, each within one 70-character segment; the ID number
never reaching the database file (nor its WAL) in clear, also when processing resumes after a
restart; senders in +86 form matched to their accounts.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from farmer_mailbox import wording
from farmer_mailbox.app import create_app
from farmer_mailbox.audit import verify_rows
from farmer_mailbox.clock import ManualClock
from farmer_mailbox.demo import load_demo
from farmer_mailbox.models import UserStatus
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.runtime import Runtime
from gateways.memory import MemoryGateway
from gateways.signing import twilio_signature
from tests.helpers import valid_id
from tests.web.rig import ENV, PUBLIC_URL, TWILIO_TOKEN, AppClient, runtime_of, web_config

LIAISON = "13900000003"     # 杨丽, liaison point of 杨高村 and 山下村 (demo)
FARMER = "13900000011"      # 杨德福, a farmer in 杨高村 (demo)
NEW_ID = "330282197007070014"
NEW_PHONE = "13911112222"
SIGNATURE = "【农民信箱】"   # what providers prepend and bill (sms.signature)
_IDS = itertools.count(1)
Start = Callable[[], Awaitable[AppClient]]


@pytest.fixture
async def start(db_path: Path, region_tree: RegionTree, clock: ManualClock) -> AsyncIterator[Start]:
    """Start the app on the test database (demo people loaded, no background workers)."""
    clients: list[AppClient] = []

    async def make() -> AppClient:
        app = create_app(web_config(db_path), env=ENV, workers=False, tree=region_tree, clock=clock)
        client: AppClient = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        await load_demo(runtime_of(client).services.accounts)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def app(start: Start) -> AppClient:
    return await start()


def memory(client: AppClient) -> MemoryGateway:
    gateway = runtime_of(client).gateways["mem"]
    assert isinstance(gateway, MemoryGateway)
    return gateway


async def post_sms(client: AppClient, sender: str, text: str) -> None:
    """A phone's message arrives through the memory gateway's webhook."""
    body = json.dumps([{"id": f"m-{next(_IDS)}", "from": sender, "text": text}], ensure_ascii=False)
    response = await client.post("/hooks/mem/inbound", data=body.encode(),
                                 headers={"Content-Type": "application/json"})
    assert response.status == 200


async def answers(client: AppClient, to: str) -> list[str]:
    """Process what arrived, send what is due, and return the texts `to` got."""
    runtime = runtime_of(client)
    await runtime.inbox.drain()
    await runtime.outbox.drain()
    return [sms.text for sms in memory(client).sent if sms.to == to]


async def sms(client: AppClient, sender: str, text: str) -> str:
    """Text the mailbox; return the one new reply the sender got."""
    before = len(await answers(client, sender))
    await post_sms(client, sender, text)
    got = (await answers(client, sender))[before:]
    assert len(got) == 1, got
    return got[0]


def one_segment(text: str) -> bool:
    """Fits one billed SMS segment, signature included."""
    return len(SIGNATURE + text) <= 70


def file_bytes(db: Path) -> bytes:
    """The database file and its write-ahead log, as an attacker with the disk would read them."""
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def failed(code: str, **params: object) -> str:
    return wording.render("register_failed", {"reason": wording.ERRORS[code].format(**params)})


async def chain_ok(runtime: Runtime) -> bool:
    store = runtime.services.store
    report = await verify_rows(store.iter_record_rows(), await store.record_referenced_max(),
                               await store.record_head())
    return report.ok


# --- success, and the ID number at rest ----------------------------------------------------------


async def test_a_liaison_registers_by_sms_and_the_id_never_reaches_the_file(app: AppClient,
                                                                             db_path: Path) -> None:
    reply = await sms(app, LIAISON, f"注册 张大山 {NEW_ID} {NEW_PHONE} 杨高村")
    assert reply.startswith("已注册:张大山 139****2222 杨高村,编号") and one_segment(reply)
    services = runtime_of(app).services
    user = await services.accounts.find(NEW_PHONE)
    assert (user.name, user.village_code, user.registered_by) == ("张大山", "330282123222", 3)
    cipher = await services.store.id_cipher(user.id)
    assert cipher is not None and services.vault.open(cipher) == NEW_ID    # the real number, not the mask
    assert user.id_masked == "330282********0014"
    record = [e.text for e in await services.store.record_for_user(3)]
    assert f"注册 张大山 330282********0014 {NEW_PHONE} 杨高村" in record
    assert NEW_ID.encode() not in file_bytes(db_path)                     # WAL included, app running
    assert await chain_ok(runtime_of(app))
    await app.close()
    assert NEW_ID.encode() not in file_bytes(db_path)                     # after the checkpoint too


async def test_zc_works_like_zhuce_and_a_lower_case_x_is_read(app: AppClient, db_path: Path) -> None:
    with_x = next(valid_id(serial=n) for n in range(1, 999) if valid_id(serial=n).endswith("X"))
    reply = await sms(app, LIAISON, f"ZC 王小二 {with_x.lower()} 13911113333 山下村")
    assert reply.startswith("已注册:王小二 139****3333 山下村") and one_segment(reply)
    services = runtime_of(app).services
    user = await services.accounts.find("13911113333")
    cipher = await services.store.id_cipher(user.id)
    assert cipher is not None and services.vault.open(cipher) == with_x
    data = file_bytes(db_path)
    assert with_x.encode() not in data and with_x.lower().encode() not in data


async def test_a_registration_waiting_at_a_restart_still_goes_through(start: Start, db_path: Path) -> None:
    first = await start()
    await post_sms(first, LIAISON, f"注册 张大山 {NEW_ID} {NEW_PHONE} 杨高村")   # committed, not processed
    assert await runtime_of(first).services.store.count_pending_inbound() == 1
    assert NEW_ID.encode() not in file_bytes(db_path)
    await first.close()                                                  # the service goes away
    second = await start()
    replies = await answers(second, LIAISON)
    assert len(replies) == 1 and replies[0].startswith("已注册:张大山")
    services = runtime_of(second).services
    user = await services.accounts.find(NEW_PHONE)
    cipher = await services.store.id_cipher(user.id)
    assert cipher is not None and services.vault.open(cipher) == NEW_ID
    assert NEW_ID.encode() not in file_bytes(db_path)


async def test_no_outbound_text_carries_the_id(app: AppClient) -> None:
    await sms(app, LIAISON, f"注册 张大山 {NEW_ID} {NEW_PHONE} 杨高村")
    again = await sms(app, LIAISON, f"注册 张小山 {NEW_ID} 13911114444 杨高村")   # duplicate ID
    assert again == failed("duplicate.id", masked="张** 139****2222", user_id=11)
    assert all(NEW_ID not in sms.text for sms in memory(app).sent)


async def test_an_id_number_in_any_message_is_masked_before_it_is_stored(app: AppClient, db_path: Path) -> None:
    number = valid_id(birth="19650227", serial=55)
    await sms(app, FARMER, f"W 我身份证号{number}怎么查补贴")
    store = runtime_of(app).services.store
    [question] = [e for e in await store.record_tail(10) if e.text == "question"]
    assert number not in question.detail and "330282********" in question.detail
    assert number.encode() not in file_bytes(db_path)


# --- refusals ----------------------------------------------------------------------------------

REFUSALS = [
    (f"注册 张大山 {NEW_ID[:17]} {NEW_PHONE} 杨高村", failed("id.length")),
    (f"注册 张大山 {NEW_ID[:16]}A4 {NEW_PHONE} 杨高村", failed("id.format")),
    (f"注册 张大山 {valid_id(birth='19701332')} {NEW_PHONE} 杨高村", failed("id.birth_date")),
    (f"注册 张大山 {valid_id(region='990000')} {NEW_PHONE} 杨高村", failed("id.region")),
    (f"注册 张大山 {NEW_ID[:17]}5 {NEW_PHONE} 杨高村", failed("id.checksum")),
    (f"注册 张大山 {NEW_ID} 1391111222 杨高村", failed("phone.not_mobile")),
    (f"注册 张大山 {NEW_ID} 14011112222 杨高村", failed("phone.invalid")),
    (f"注册 张大山 {NEW_ID} {NEW_PHONE} 火星村", failed("village.unknown")),
    (f"注册 张大山 {NEW_ID} {NEW_PHONE} 龙山镇", failed("village.not_village", name="龙山镇", level="镇(街道)")),
    (f"注册 张3 {NEW_ID} {NEW_PHONE} 杨高村", failed("name.invalid")),
    (f"注册 张大山 {NEW_ID} {NEW_PHONE} 子陵村", failed("scope.village")),      # another point's village
    (f"注册 张大山 {NEW_ID} {NEW_PHONE}", wording.render("register_usage", {})),
    ("注册", wording.render("register_usage", {})),
    (f"注册 张大山 {NEW_ID} {NEW_PHONE} 杨高村 葡萄", wording.render("register_usage", {})),
]


@pytest.mark.parametrize(("text", "expected"), REFUSALS, ids=[
    "id-17-digits", "id-letter", "id-birth-date", "id-region", "id-checksum", "phone-10-digits",
    "phone-no-such-range", "village-unknown", "a-town-not-a-village", "name-with-digit", "outside-the-point",
    "three-fields", "no-fields", "five-fields"])
async def test_each_refusal_has_its_own_reply_and_registers_nobody(app: AppClient, db_path: Path,
                                                                   text: str, expected: str) -> None:
    users = await runtime_of(app).services.store.count_users()
    reply = await sms(app, LIAISON, text)
    assert reply == expected and one_segment(reply)
    assert await runtime_of(app).services.store.count_users() == users
    for word in text.split():
        if len(word) >= 15 and word[:6].isdigit():
            assert word.encode() not in file_bytes(db_path)   # even a mistyped ID number is kept out


async def test_a_duplicate_phone_names_the_existing_account_masked(app: AppClient) -> None:
    reply = await sms(app, LIAISON, f"注册 张大山 {NEW_ID} {FARMER} 杨高村")
    assert reply == failed("duplicate.phone", masked="杨** 139****0011", user_id=5) and one_segment(reply)


async def test_a_farmer_cannot_register_anyone(app: AppClient) -> None:
    reply = await sms(app, FARMER, f"注册 张大山 {NEW_ID} {NEW_PHONE} 杨高村")
    assert reply == wording.render("not_staff", {})
    assert await runtime_of(app).services.store.user_by_phone(NEW_PHONE) is None


async def test_an_unregistered_phone_cannot_register_anyone(app: AppClient) -> None:
    reply = await sms(app, "13712345678", f"注册 张大山 {NEW_ID} {NEW_PHONE} 杨高村")
    assert reply == wording.render("unregistered", {})
    assert await runtime_of(app).services.store.user_by_phone(NEW_PHONE) is None


# --- senders in international form ----------------------------------------------------------------


async def twilio_sms(client: AppClient, sender: str, text: str) -> None:
    """A message through the Twilio webhook: From always in E.164, the request signed."""
    params = {"MessageSid": f"SM{next(_IDS):032d}", "AccountSid": "AC" + "0" * 32, "From": sender,
              "To": "+15005550006", "Body": text, "NumSegments": "1"}
    body = urlencode(params).encode()
    signature = twilio_signature(TWILIO_TOKEN, PUBLIC_URL + "/hooks/twilio/inbound",
                                 {k: [v] for k, v in params.items()})
    response = await client.post("/hooks/twilio/inbound", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert response.status == 200


async def test_a_plus_86_sender_through_twilio_is_the_registered_farmer(app: AppClient) -> None:
    await twilio_sms(app, "+86" + FARMER, "帮助")
    assert await answers(app, FARMER) == [wording.render("help", {})]
    await twilio_sms(app, "+86" + FARMER, "TD")
    assert (await answers(app, FARMER))[-1] == wording.render("opted_out", {})
    user = await runtime_of(app).services.store.user_by_phone(FARMER)
    assert user is not None and user.status is UserStatus.OPTED_OUT
    [entry] = [e for e in await runtime_of(app).services.store.record_tail(20) if e.kind == "inbound"][:1]
    assert entry.address == FARMER and entry.user_id == user.id


@pytest.mark.parametrize("written", ["+8613900000011", "008613900000011", "8613900000011", "+86 139-0000-0011"])
async def test_every_way_of_writing_a_mainland_sender_finds_the_account(app: AppClient, written: str) -> None:
    await post_sms(app, written, "帮助")
    assert await answers(app, FARMER) == [wording.render("help", {})]


async def test_a_liaison_in_plus_86_form_can_register(app: AppClient) -> None:
    await post_sms(app, "+86" + LIAISON, f"注册 张大山 {NEW_ID} {NEW_PHONE} 杨高村")
    [reply] = await answers(app, LIAISON)
    assert reply.startswith("已注册:张大山")
