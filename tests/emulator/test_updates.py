"""getUpdates as Telegram answers it: offsets, long polls, limits, one poller at a time."""

from __future__ import annotations

import asyncio
import time

import httpx

from bot.emulator import BotApiEmulator
from tests.emulator.conftest import RawApi


async def test_offset_confirms_updates_below_it(emu: BotApiEmulator, api: RawApi) -> None:
    alice = emu.user(1001, "Alice")
    for text in ("one", "two", "three"):
        await alice.send_private(text)

    status, body = await api("getUpdates")
    ids = [update["update_id"] for update in body["result"]]
    assert status == 200 and len(ids) == 3
    assert ids == sorted(set(ids)), "update ids strictly increase"
    assert [u["message"]["text"] for u in body["result"]] == ["one", "two", "three"]

    # Delivered but not confirmed: they come again.
    _, again = await api("getUpdates")
    assert [u["update_id"] for u in again["result"]] == ids
    assert emu.pending_updates == 3

    _, rest = await api("getUpdates", offset=ids[1])
    assert [u["update_id"] for u in rest["result"]] == ids[1:]
    assert emu.pending_updates == 2

    _, none = await api("getUpdates", offset=ids[-1] + 1)
    assert none["result"] == [] and emu.pending_updates == 0


async def test_limit_and_negative_offset(emu: BotApiEmulator, api: RawApi) -> None:
    alice = emu.user(1001, "Alice")
    for number in range(5):
        await alice.send_private(f"m{number}")
    _, first = await api("getUpdates", limit=2)
    assert [u["message"]["text"] for u in first["result"]] == ["m0", "m1"]
    # A negative offset keeps only the newest -offset updates.
    _, last = await api("getUpdates", offset=-2)
    assert [u["message"]["text"] for u in last["result"]] == ["m3", "m4"]
    assert emu.pending_updates == 2


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emu: BotApiEmulator, api: RawApi
) -> None:
    alice = emu.user(1001, "Alice")
    started = time.monotonic()
    poll = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await alice.send_private("hello")
    status, body = await asyncio.wait_for(poll, 2)
    assert status == 200
    assert [u["message"]["text"] for u in body["result"]] == ["hello"]
    assert time.monotonic() - started < 1.5


async def test_long_poll_without_updates_waits_out_the_timeout(api: RawApi) -> None:
    started = time.monotonic()
    status, body = await api("getUpdates", timeout=0.3)
    assert status == 200 and body["result"] == []
    assert time.monotonic() - started >= 0.28


async def test_a_second_poller_terminates_the_first(emu: BotApiEmulator, api: RawApi) -> None:
    first = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    status, body = await api("getUpdates", timeout=0)
    assert status == 200 and body["result"] == []
    status, body = await asyncio.wait_for(first, 2)
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")


async def test_allowed_updates_drops_other_kinds(emu: BotApiEmulator, api: RawApi) -> None:
    alice = emu.user(1001, "Alice")
    await api("getUpdates", allowed_updates=["callback_query"])
    await alice.send_private("not delivered")
    assert emu.pending_updates == 0
    await api("getUpdates", allowed_updates=[])  # empty: back to the default kinds
    await alice.send_private("delivered")
    _, body = await api("getUpdates")
    assert [u["message"]["text"] for u in body["result"]] == ["delivered"]


async def test_webhook_blocks_get_updates_until_deleted(api: RawApi) -> None:
    assert (await api("setWebhook", url="https://example.org/hook"))[0] == 200
    status, body = await api("getUpdates")
    assert status == 409 and "webhook is active" in body["description"]
    _, info = await api("getWebhookInfo")
    assert info["result"]["url"] == "https://example.org/hook"
    assert (await api("deleteWebhook"))[0] == 200
    assert (await api("getUpdates"))[0] == 200


async def test_bodies_of_every_kind_and_errors(emu: BotApiEmulator) -> None:
    emu.group(-100123, "Volunteers")
    url = f"{emu.base_url}{emu.token}"
    async with httpx.AsyncClient() as client:
        form = await client.post(f"{url}/sendMessage", data={"chat_id": "-100123", "text": "form"})
        query = await client.get(f"{url}/sendmessage", params={"chat_id": -100123, "text": "get"})
        unknown = await client.post(f"{url}/sendTelepathy", json={})
        wrong = await client.post(f"{emu.base_url}999:nope/getMe")
    assert form.status_code == 200 and form.json()["result"]["text"] == "form"
    assert query.status_code == 200, "method names are case-insensitive"
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"
    assert emu.count("sendMessage", 200) == 2
