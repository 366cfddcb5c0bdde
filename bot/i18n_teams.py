"""User-facing strings for teams, in Simplified Chinese and English (merged into bot.i18n)."""

# Chinese text uses full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Final

TEAMS: Final[dict[str, dict[str, str]]] = {
    "button_no_team": {"en": "No team", "zh": "不属于任何队伍"},
    "team_current": {
        "en": "Your new claims count for <b>{team}</b>.",
        "zh": "您之后的认领计入<b>{team}</b>。",
    },
    "team_current_none": {
        "en": "Your claims count for no team.",
        "zh": "您的认领目前不计入任何队伍。",
    },
    "team_pick": {
        "en": "Pick the party branch or team your new claims count for:",
        "zh": "请选择您之后的认领计入哪个支部或队伍：",
    },
    "team_none_defined": {
        "en": "No teams are defined yet, so claims count for no team.",
        "zh": "目前还没有设置队伍，认领不计入任何队伍。",
    },
    "team_list_title": {
        "en": "<b>Teams</b> (for coordinators):",
        "zh": "<b>队伍</b>（协调员可见）：",
    },
    "team_list_item": {
        "en": "{team}: {members} volunteers, {claims} open claims{config}",
        "zh": "{team}：志愿者 {members} 人，结对 {claims} 个{config}",
    },
    "team_list_config": {"en": " (config file)", "zh": "（配置文件）"},
    "team_manage_hint": {
        "en": "/team add &lt;name&gt; adds a team; /team remove &lt;name&gt; removes one.",
        "zh": "/team add &lt;名称&gt; 添加队伍；/team remove &lt;名称&gt; 删除队伍。",
    },
    "team_set": {
        "en": "Your new claims count for {team}. /team changes it.",
        "zh": "您之后的认领将计入 {team}。/team 可更改。",
    },
    "team_cleared": {
        "en": "Your new claims count for no team. /team changes it.",
        "zh": "您之后的认领不计入任何队伍。/team 可更改。",
    },
    "team_stale": {
        "en": "That team no longer exists; nothing changed. Here are the teams now.",
        "zh": "该队伍已不存在，未作任何更改。以下是现有的队伍。",
    },
    "team_unknown_pick": {
        "en": "There is no team “{name}”; nothing changed.",
        "zh": "没有名为“{name}”的队伍，未作任何更改。",
    },
    "team_private_only": {
        "en": "Pick your team in a private chat with me: {link}",
        "zh": "请在与我的私聊中选择队伍：{link}",
    },
    "team_add_usage": {
        "en": "Usage: /team add &lt;name of the party branch or team&gt;",
        "zh": "用法：/team add &lt;支部或队伍名称&gt;",
    },
    "team_remove_usage": {
        "en": "Usage: /team remove &lt;name of the team&gt;",
        "zh": "用法：/team remove &lt;队伍名称&gt;",
    },
    "team_added": {
        "en": "Added the team <b>{team}</b>. Volunteers pick it with /team.",
        "zh": "已添加队伍<b>{team}</b>。志愿者可通过 /team 选择。",
    },
    "team_exists": {
        "en": "There is already a team <b>{team}</b>; nothing changed.",
        "zh": "已有队伍<b>{team}</b>，未作任何更改。",
    },
    "team_too_many": {
        "en": "There are already {limit} teams, the most there can be. Remove one first.",
        "zh": "队伍已达上限 {limit} 个，请先删除一个。",
    },
    "team_removed": {
        "en": (
            "Removed the team <b>{team}</b>. {members} volunteers in it were asked to pick"
            " again; its {claims} open claims keep its name in the record."
        ),
        "zh": (
            "已删除队伍<b>{team}</b>。已请其中 {members} 名志愿者重新选择；"
            "其 {claims} 个结对在记录中保留该队伍名称。"
        ),
    },
    "team_unknown": {
        "en": "There is no team “{name}”; nothing changed. /team lists the teams.",
        "zh": "没有名为“{name}”的队伍，未作任何更改。/team 查看现有队伍。",
    },
    "team_in_config": {
        "en": (
            "The team <b>{team}</b> is listed under <code>teams:</code> in the config file;"
            " remove it there and restart the bot. Nothing changed."
        ),
        "zh": (
            "队伍<b>{team}</b>列在配置文件的 <code>teams:</code> 中，"
            "请在配置文件中删除并重启机器人。未作任何更改。"
        ),
    },
    "team_name_empty": {
        "en": "A team needs a name. Nothing was saved.",
        "zh": "队伍名称不能为空，未保存。",
    },
    "team_name_too_long": {
        "en": "That name is too long ({length} characters; at most {limit}). Nothing was saved.",
        "zh": "名称过长（{length} 字，最多 {limit} 字），未保存。",
    },
    "team_name_reserved": {
        "en": "“add”, “remove” and “-” cannot be team names. Nothing was saved.",
        "zh": "“add”“remove”和“-”不能作为队伍名称，未保存。",
    },
    "team_removed_notice": {
        "en": (
            "The coordinators removed the team <b>{team}</b> your claims counted for. Your"
            " pairings keep it in the record; your new claims count for no team until you"
            " pick one."
        ),
        "zh": (
            "协调员删除了您认领所计入的队伍<b>{team}</b>。您已有的结对在记录中保留该名称；"
            "在您重新选择之前，新的认领不计入任何队伍。"
        ),
    },
    "answer_no_team": {
        "en": "Pick your team first: open the chat with me and choose it, then tap Claim again.",
        "zh": "请先选择您的队伍：打开与我的私聊选择后，再点认领。",
    },
    "answer_team_limit": {
        "en": (
            "Your team {team} already holds {count} open claims; a team may hold at most"
            " {limit}. Nothing was claimed."
        ),
        "zh": "您的队伍 {team} 已有 {count} 个结对，每个队伍最多 {limit} 个。未认领。",
    },
}
