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
    assert story.passed >= 50
    # The office's spreadsheet, imported from private chat; boards and the progress board.
    assert "[drive_en.csv]" in transcript and "[Post 15 needs]" in transcript
    assert "All 15 needs are up in the group." in transcript
    assert "Needs #1–#8" in transcript and "and 1 more like it" in transcript
    assert "📊 Drive progress" in transcript and "Claimed 15 of 17" in transcript
    assert "15 already in the group were skipped" in transcript
    assert "✅ " in transcript
    assert "https://t.me/claimbot_demo_bot?start=d_" in transcript
    # Past the claims: visits, a concern, a follow-up, the crash and what came after it.
    assert "· visited " in transcript
    assert "needs help now" in transcript
    assert "How is need #" in transcript
    assert "the bot's process is killed" in transcript
    assert "Spring Festival is on " in transcript
    assert "needs still wait for a volunteer" in transcript
    assert "✓ no message reached anyone twice" in transcript
    assert "✓ no 429 drawn from Telegram's flood limits in the whole drive" in transcript


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
    assert "全部 53 条需求已发布到群" in result.stdout and "认领成功" in result.stdout
    assert "需求 #1–#8" in result.stdout and "📊 结对进度" in result.stdout
    assert " 已走访" in result.stdout and "急需帮助" in result.stdout
    assert "春节（" in result.stdout and "等待认领" in result.stdout
    assert "SIGKILL" in result.stdout
