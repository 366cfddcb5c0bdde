"""Strings of needs for several volunteers (places), in Simplified Chinese and English
(merged into bot.i18n). Telegram messages, HTML unless said otherwise."""

# Chinese text uses full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Final

SLOTS: Final[dict[str, dict[str, str]]] = {
    "card_places_taken": {
        "en": "Claimed {taken} of {slots}: {names}",
        "zh": "已认领 {taken}/{slots}：{names}",
    },
    "card_places_left": {
        "en": "{left} of {slots} places open: tap Claim to join.",
        "zh": "还有 {left}/{slots} 个名额：点“认领”加入。",
    },
    # A tap's answer: plain text.
    "answer_taken_all": {
        "en": "All {count} places are taken: {names}.",
        "zh": "{count} 个名额已满：{names}。",
    },
    "reassign_full": {
        "en": (
            "Every place of need #{id} is taken. /free {id} ends them all; or a holder"
            " releases theirs."
        ),
        "zh": "需求 #{id} 的名额已满。/free {id} 可解除全部认领，或请某位认领人自行放弃。",
    },
    "slots_usage": {
        "en": (
            "Usage: /slots &lt;number&gt; &lt;places&gt;, e.g. /slots 12 3: need #12 takes"
            " three volunteers (1-{most})."
        ),
        "zh": (
            "用法：/slots &lt;编号&gt; &lt;名额&gt;，"
            "例如 /slots 12 3：需求 #12 需要三位志愿者（1-{most}）。"
        ),
    },
    "slots_done": {
        "en": "Need #{id} now takes {slots} volunteer(s); its card shows the places.",
        "zh": "需求 #{id} 现在需要 {slots} 位志愿者，卡片已显示名额。",
    },
    "slots_unchanged": {
        "en": "Need #{id} already takes {slots}.",
        "zh": "需求 #{id} 的名额已经是 {slots}。",
    },
    "slots_below_holders": {
        "en": (
            "Need #{id} has {taken} holders: it cannot take fewer places than that."
            " /free {id} first if that is what you mean."
        ),
        "zh": "需求 #{id} 已有 {taken} 位认领人，名额不能少于此数。如确需减少，请先 /free {id}。",
    },
    "slots_closed": {
        "en": "Need #{id} is closed; /reopen {id} first.",
        "zh": "需求 #{id} 已关闭，请先 /reopen {id}。",
    },
}
