"""``python -m bot.emulator``: run the emulator by hand and play the people from a prompt."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import sys
from collections.abc import Sequence

from bot.emulator.model import SimMessage
from bot.emulator.server import BotApiEmulator
from bot.emulator.timing import Limits
from bot.emulator.wire import ApiCall

HELP = """commands (one per line):
  user <user_id> <first_name> [language_code]   create a person
  group <chat_id> <title...>                    create a supergroup the bot is in
  start <user_id> [payload]                     the person presses Start
  say <user_id> <chat_id|me> <text...>          the person sends text (me: private chat)
  tap <user_id> <chat_id> <message_id> <data>   the person taps a button
  show <chat_id>                                the bot's messages in a chat
  calls                                         calls per method and status
  help | quit"""


def describe(message: SimMessage) -> str:
    """One message as a line of text, buttons included."""
    flags = "".join(
        flag
        for flag, on in (("*", message.pinned), ("~", message.deleted), ("e", message.edit_count))
        if on
    )
    kind = "[photo]" if message.photo else "[document]"
    body = message.text if message.text is not None else f"{kind} {message.caption or ''}"
    buttons = " ".join(
        f"[{b.get('text')}|{b.get('callback_data', b.get('url'))}]" for b in message.iter_buttons()
    )
    return f"#{message.message_id}{flags} {body} {buttons}".rstrip()


def print_call(call: ApiCall) -> None:
    """One line per API call the bot makes (getUpdates left out: it is constant)."""
    if call.method == "getUpdates" and call.status == 200:
        return
    params = call.params
    detail = params.get("text") or params.get("caption") or params.get("callback_query_id") or ""
    target = params.get("chat_id", "")
    outcome = "ok" if call.status == 200 else f"{call.status} {call.description}"
    print(f"<- {call.method} {target} {str(detail)[:60]!r} {outcome}", flush=True)


async def run_command(emu: BotApiEmulator, line: str) -> bool:
    """Carry out one prompt line; False to quit."""
    words = shlex.split(line)
    if not words:
        return True
    command, args = words[0], words[1:]
    try:
        if command in ("quit", "exit"):
            return False
        if command == "user":
            emu.user(int(args[0]), args[1], language_code=args[2] if len(args) > 2 else None)
        elif command == "group":
            emu.group(int(args[0]), " ".join(args[1:]) or "Group")
        elif command == "start":
            await emu.user_by_id(int(args[0])).start_bot(args[1] if len(args) > 1 else None)
        elif command == "say":
            user = emu.user_by_id(int(args[0]))
            chat = user.chat if args[1] == "me" else emu.chat(int(args[1]))
            await user.send(chat, " ".join(args[2:]))
        elif command == "tap":
            user = emu.user_by_id(int(args[0]))
            message = emu.message(int(args[1]), int(args[2]))
            if message is None:
                raise LookupError("no such message")
            print("callback query", await user.tap(message, args[3]))
        elif command == "show":
            for message in emu.messages(int(args[0]), include_deleted=True):
                print(describe(message))
        elif command == "calls":
            for (method, status), number in sorted(emu.call_counts().items()):
                print(f"{method:28} {status:4} {number}")
        else:
            print(HELP)
    except (IndexError, ValueError, LookupError, RuntimeError) as error:
        print(f"! {error}")
    return True


async def serve(args: argparse.Namespace) -> None:
    """Run the emulator until Ctrl-C or "quit"; at the end of input it keeps serving."""
    limits = Limits(enabled=not args.no_limits)
    emu = BotApiEmulator(args.token, args.username, limits, bot_name=args.name)
    if not args.quiet:
        emu.on_call = print_call
    await emu.start(args.host, args.port)
    print(f"Bot API emulator for @{args.username} at {emu.base_url}", flush=True)
    print(f"  e.g. ApplicationBuilder().token({args.token!r}).base_url({emu.base_url!r})")
    try:
        if not args.no_prompt:
            if sys.stdin.isatty():
                print(HELP)
            loop = asyncio.get_running_loop()
            while line := await loop.run_in_executor(None, sys.stdin.readline):
                if not await run_command(emu, line):
                    return
        await asyncio.Event().wait()
    finally:
        await emu.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """The command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bot.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--username", default="claimbot_demo_bot", help="the bot's username")
    parser.add_argument("--name", default="Claimbot", help="the bot's first name")
    parser.add_argument("--no-limits", action="store_true", help="no flood limits")
    parser.add_argument("--no-prompt", action="store_true", help="serve only, no prompt")
    parser.add_argument("--quiet", action="store_true", help="do not print the bot's calls")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
