"""A need's life end to end over HTTP: a coordinator edits, closes, reopens and cancels a need
on the emulator; the card follows, taps are answered so, the holder is told privately."""

from __future__ import annotations

from bot.emulator import BotApiEmulator, SimUser
from tests.e2e.conftest import USERNAME, cards
from tests.e2e.test_claim_loop import SECRETS, people, post_private


def card_text(emu: BotApiEmulator) -> str:
    return cards(emu)[0].text or ""


async def tap_answer(emu: BotApiEmulator, person: SimUser) -> str:
    answer = await emu.wait_callback_answer(await person.tap(cards(emu)[0], "c:1"), 10)
    return str(answer["text"])


async def test_edit_close_reopen_cancel_with_the_card_and_the_holder(
    emu, group, coordinator, run_bot
):
    async with run_bot():
        await post_private(emu, coordinator, "Disabled veteran needs groceries")
        alice, bob = await people(emu, 2)
        assert (await tap_answer(emu, alice)).startswith("It's yours")
        await emu.wait_for_message(alice, "You are paired with", timeout=10)

        # Edit: a new summary and phone; the card follows, Alice gets the new details.
        await coordinator.send_private("/edit 1")
        menu = await emu.wait_for_message(coordinator, "Editing need #1", timeout=10)
        await coordinator.tap_button(menu, "Change public summary")
        await emu.wait_for_message(coordinator, "new public summary", timeout=10)
        await coordinator.send_private("Disabled veteran needs groceries and a ride")
        menu = await emu.wait_for_message(coordinator, "Changed, not saved yet", timeout=10)
        await coordinator.tap_button(menu, "Change phone")
        await emu.wait_for_message(coordinator, "send the new phone", timeout=10)
        await coordinator.send_private("13911112222")
        menu = await emu.wait_for_message(coordinator, "public summary, phone", timeout=10)
        await coordinator.tap_button(menu, "Save changes")
        await emu.wait_for_message(coordinator, "Need #1 saved", timeout=10)
        await emu.wait_for(lambda: "and a ride" in card_text(emu), timeout=10)
        told = await emu.wait_for_message(alice, "updated the household's details", timeout=10)
        assert "13911112222" in (told.text or "")

        # Close as done: the card says so, Alice is told, a tap is answered "closed".
        await coordinator.send(group, f"/close@{USERNAME} 1 all done, thank you")
        await emu.wait_for(lambda: "Closed." in card_text(emu), timeout=10)
        assert cards(emu)[0].buttons == []
        notice = await emu.wait_for_message(alice, "closed need #1 as done", timeout=10)
        assert "all done, thank you" in (notice.text or "")
        assert await tap_answer(emu, bob) == "This need is closed."
        await coordinator.send(group, f"/close@{USERNAME} 1")
        await emu.wait_for_message(group, "already closed", timeout=10)

        # Reopen: the Claim button is back, and the first tap wins again.
        await coordinator.send_private("/reopen 1")
        await emu.wait_for_message(coordinator, "open again", timeout=10)
        await emu.wait_for(lambda: cards(emu)[0].callback_data == ["c:1"], timeout=10)
        assert (await tap_answer(emu, bob)).startswith("It's yours")

        # Cancel: the card says Cancelled, Bob is told, taps are answered so.
        await coordinator.send_private("/cancel_need 1")
        await emu.wait_for_message(coordinator, "Need #1 is cancelled", timeout=10)
        await emu.wait_for(lambda: "Cancelled." in card_text(emu), timeout=10)
        await emu.wait_for_message(bob, "cancelled need #1", timeout=10)
        assert await tap_answer(emu, alice) == "This need was cancelled."

        # A volunteer can do none of it.
        await bob.send_private("/reopen 1")
        await emu.wait_for_message(bob, "Only coordinators", timeout=10)
        assert "Cancelled." in card_text(emu)

        group_text = "\n".join(m.text or "" for m in emu.messages(group))
        assert not any(s in group_text for s in (*SECRETS, "13911112222"))
