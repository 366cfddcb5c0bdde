"""The demo tells the whole story over HTTP on the emulator, and fails loudly if a step fails."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.demo import run_demo

ROOT = Path(__file__).parent.parent


async def test_demo_story_passes_every_check_in_english():
    out = io.StringIO()
    story = await run_demo("en", out, households=15, seed=3)
    transcript = out.getvalue()
    assert story.failures == [], transcript
    assert story.passed >= 10
    assert "Claimed by" in transcript
    assert "https://t.me/claimbot_demo_bot?start=d_" in transcript


def test_claimbot_demo_command_in_chinese():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--lang", "zh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "0 failed" in result.stdout.splitlines()[-1]
    assert "已由" in result.stdout and "认领成功" in result.stdout
