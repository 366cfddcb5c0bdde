"""``claimbot demo``: the whole story, told by the real bot on the local Bot API emulator."""

from __future__ import annotations

import sys


def main(lang: str = "en") -> int:
    """Run the demo; returns the process exit code."""
    print(
        "claimbot demo: the local Bot API emulator is not part of this build yet.", file=sys.stderr
    )
    return 1
