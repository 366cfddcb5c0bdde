"""Every user-facing string, in Simplified Chinese and English.

Strings are HTML (Telegram's parse mode); placeholders get values that callers have already
escaped with :func:`html.escape`. A person's language is the one they chose with ``/lang``,
else Telegram's ``language_code``, else the configured default.
"""

from __future__ import annotations

from typing import Final

from bot.i18n_boards import BOARDS
from bot.i18n_export import EXPORT
from bot.i18n_import import IMPORT
from bot.i18n_life import LIFE
from bot.i18n_reminders import REMINDERS
from bot.i18n_slots import SLOTS
from bot.i18n_teams import TEAMS
from bot.i18n_visits import VISITS

LANGUAGES: Final = ("zh", "en")

CATALOG: Final[dict[str, dict[str, str]]] = {
    "start_welcome": {
        "en": (
            "Hello {name}! I help this volunteer group pair up with households in need.\n"
            "Tap <b>Claim</b> on a need in the group; the household's details then come to "
            "you here, privately.\n/help lists what I can do."
        ),
        "zh": (
            "{name}，您好！我帮助志愿者群与困难家庭结对。\n"
            "在群里点需求卡片上的<b>认领</b>，家庭的详细信息会私信发给您。\n"
            "/help 查看全部命令。"
        ),
    },
    "help_volunteer": {
        "en": (
            "<b>What I can do</b>\n"
            "Tap <b>Claim</b> on a need card in the group to pair up with a household.\n"
            "/mine: your pairings (with the households' details, in private chat)\n"
            "/visit [number]: log a visit to your household (private chat)\n"
            "/show &lt;number&gt;: your household's details and history (private chat)\n"
            "/release [number]: give up a pairing you cannot keep (no number: your only one)\n"
            "/status: how many needs are open and claimed\n"
            "/team: pick the party branch or team you claim for (private chat)\n"
            "/lang zh|en: 中文 or English"
        ),
        "zh": (
            "<b>我能做什么</b>\n"
            "在群里点需求卡片上的<b>认领</b>，与一户家庭结对。\n"
            "/mine：我的结对（私聊中附家庭详细信息）\n"
            "/visit [编号]：记录一次走访（私聊）\n"
            "/show &lt;编号&gt;：您结对家庭的信息和走访记录（私聊）\n"
            "/release [编号]：放弃无法继续的结对（不写编号：您唯一的结对）\n"
            "/status：待认领和已认领的数量\n"
            "/team：选择您代表的支部或队伍（私聊）\n"
            "/lang zh|en：中文或 English"
        ),
    },
    "help_coordinator": {
        "en": (
            "\n\n<b>For coordinators</b>\n"
            "/post &lt;public summary&gt; in the group: post a need with no private details\n"
            "/post in private chat: post a need with private details, step by step\n"
            "/cancel: drop a need being written (private chat)\n"
            "/show &lt;number&gt;: a need's private details and history (private chat)\n"
            "/free &lt;number&gt;: end a claim; the need is open again\n"
            "/repost &lt;number&gt;: post a need's card again (if it went missing)\n"
            "/board in the group: post (again) and pin the group's progress board\n"
            "/slots &lt;number&gt; &lt;places&gt;: how many volunteers a need takes\n"
            "/reassign &lt;number&gt; &lt;user id or @username&gt;: give a need to someone\n"
            "/remind &lt;when&gt; &lt;text&gt;: a message to every claimer at a local time"
            " (private chat)\n"
            "/reminders: what is scheduled, with Cancel buttons (private chat)\n"
            "/team add &lt;name&gt;, /team remove &lt;name&gt;: the teams volunteers pick from\n"
            "/export [xlsx|csv]: the record as a file (private chat)\n"
            "Send me a .csv or .xlsx file of needs (private chat) to post a whole list"
        ),
        "zh": (
            "\n\n<b>协调员命令</b>\n"
            "在群里发 /post &lt;公开摘要&gt;：发布不含隐私信息的需求\n"
            "私聊发 /post：逐步发布含隐私信息的需求\n"
            "/cancel：放弃正在填写的需求（私聊）\n"
            "/show &lt;编号&gt;：查看需求的隐私信息和记录（私聊）\n"
            "/free &lt;编号&gt;：解除认领，需求重新开放\n"
            "/repost &lt;编号&gt;：重新发布需求卡片（卡片丢失时）\n"
            "在群里发 /board：发布（或重新发布）并置顶本群进度看板\n"
            "/slots &lt;编号&gt; &lt;名额&gt;：设置需求需要几位志愿者\n"
            "/reassign &lt;编号&gt; &lt;用户ID或@用户名&gt;：把需求交给某人\n"
            "/remind &lt;时间&gt; &lt;内容&gt;：在指定时间给所有认领人发消息（私聊）\n"
            "/reminders：已安排的提醒，可取消（私聊）\n"
            "/team add &lt;名称&gt;、/team remove &lt;名称&gt;：志愿者可选的支部和队伍\n"
            "/export [xlsx|csv]：导出记录文件（私聊）\n"
            "私聊发给我 .csv 或 .xlsx 需求表格，即可批量发布"
        ),
    },
    "unknown_command": {
        "en": "I don't know that command. /help lists the ones I have.",
        "zh": "没有这个命令。/help 查看可用命令。",
    },
    "private_text_hint": {
        "en": "Send /help to see what I can do.",
        "zh": "发送 /help 查看我能做什么。",
    },
    "not_coordinator": {
        "en": "Only coordinators can do that.",
        "zh": "只有协调员可以这样做。",
    },
    "private_only": {
        "en": "Please use this in a private chat with me: {link}",
        "zh": "请在与我的私聊中使用：{link}",
    },
    "need_number_invalid": {
        "en": "“{value}” is not a need number.",
        "zh": "“{value}”不是有效的需求编号。",
    },
    "need_not_found": {
        "en": "There is no need #{id}.",
        "zh": "没有编号为 #{id} 的需求。",
    },
    "post_usage_group": {
        "en": (
            "Usage: /post &lt;public summary&gt;: what the group may see (category, "
            "neighbourhood, help wanted). For private details send /post to me privately."
        ),
        "zh": (
            "用法：/post &lt;公开摘要&gt;，写群里可以看到的内容（类别、社区、需要的帮助）。"
            "含隐私信息的需求请私聊我发送 /post。"
        ),
    },
    "text_too_long": {
        "en": "That is too long ({length} characters; at most {limit}). Nothing was saved.",
        "zh": "内容过长（{length} 字，最多 {limit} 字），未保存。",
    },
    "text_empty": {
        "en": "That is empty. Please send some text.",
        "zh": "内容为空，请发送文字。",
    },
    "post_ask_summary": {
        "en": (
            "New need. First the <b>public summary</b>: what the group sees (category, "
            "neighbourhood, help wanted). No names, addresses or phone numbers here.\n"
            "/cancel stops."
        ),
        "zh": (
            "发布新需求。先写<b>公开摘要</b>：群里看到的内容（类别、社区、需要的帮助）。"
            "这里不要写姓名、地址或电话。\n/cancel 取消。"
        ),
    },
    "post_ask_name": {
        "en": "Private: the household's name. Send - to skip.",
        "zh": "隐私信息：户主姓名。发送 - 跳过。",
    },
    "post_ask_address": {
        "en": "Private: the address. Send - to skip.",
        "zh": "隐私信息：地址。发送 - 跳过。",
    },
    "post_ask_phone": {
        "en": "Private: the phone number. Send - to skip.",
        "zh": "隐私信息：电话。发送 - 跳过。",
    },
    "post_ask_health": {
        "en": "Private: health (conditions, mobility). Send - to skip.",
        "zh": "隐私信息：健康状况（疾病、行动能力）。发送 - 跳过。",
    },
    "post_ask_notes": {
        "en": "Private: other notes for the claimer. Send - to skip.",
        "zh": "隐私信息：给认领人的其他备注。发送 - 跳过。",
    },
    "post_preview": {
        "en": (
            "The group will see only this:\n\n{summary}\n\n"
            "Tap the group to post it to, or /cancel."
        ),
        "zh": "群里只会看到以下内容：\n\n{summary}\n\n点选要发布到的群，或发送 /cancel 取消。",
    },
    "button_post_to": {
        "en": "Post to {group}",
        "zh": "发布到 {group}",
    },
    "post_ask_group": {
        "en": "Which group should see it?",
        "zh": "发布到哪个群？",
    },
    "post_no_groups": {
        "en": (
            "I am not in any group yet. Add me to the volunteers' group and send /status "
            "there, then try again. Nothing was saved."
        ),
        "zh": (
            "我还没有加入任何群。请把我加入志愿者群并在群里发送 /status，然后重试。"
            "未保存任何内容。"
        ),
    },
    "post_done": {
        "en": "Posted need #{id} to {group}.",
        "zh": "已将需求 #{id} 发布到 {group}。",
    },
    "post_card_failed": {
        "en": (
            "Need #{id} is saved, but its card could not be confirmed in the group ({reason})."
            " Check the group; /repost {id} posts it again."
        ),
        "zh": (
            "需求 #{id} 已保存，但无法确认卡片已发到群里（{reason}）。"
            "请查看群；/repost {id} 可重新发布。"
        ),
    },
    "repost_usage": {
        "en": "Usage: /repost &lt;number of an open or claimed need&gt;",
        "zh": "用法：/repost &lt;未关闭的需求编号&gt;",
    },
    "repost_done": {
        "en": "Posted a new card for need #{id}.",
        "zh": "已为需求 #{id} 重新发布卡片。",
    },
    "post_cancelled": {
        "en": "Cancelled; nothing was posted.",
        "zh": "已取消，未发布任何内容。",
    },
    "post_expect_text": {
        "en": "Please answer with text, or /cancel.",
        "zh": "请用文字回答，或发送 /cancel。",
    },
    "privacy_found_group": {
        "en": (
            "That summary looks like it contains private data (a phone number, ID number or "
            "address), so I did not post it. Send /post to me privately ({link}): the private "
            "details have their own place there."
        ),
        "zh": (
            "该摘要似乎包含隐私信息（电话、身份证号或地址），未发布。"
            "请私聊我发送 /post（{link}），隐私信息在那里单独填写。"
        ),
    },
    "privacy_found_post": {
        "en": (
            "I did not post your summary in {group}: it looks like it contains private data "
            "the whole group would see:\n{found}\n\nYour summary was:\n{summary}\n\n"
            "Send /post here to write it with the private details kept apart."
        ),
        "zh": (
            "您在 {group} 发的摘要未发布：其中似乎有全群都能看到的隐私信息：\n{found}\n\n"
            "您的摘要是：\n{summary}\n\n请在这里发送 /post，把隐私信息单独填写。"
        ),
    },
    "privacy_found_draft": {
        "en": (
            "This summary looks like it contains private data the whole group would see:\n"
            "{found}\n\nMove it to the private details (you type the summary again without "
            "it), or post the summary as is?"
        ),
        "zh": (
            "该摘要似乎包含全群都能看到的隐私信息：\n{found}\n\n"
            "移到隐私信息中（重新填写不含这些内容的摘要），还是按原样发布？"
        ),
    },
    "privacy_finding": {
        "en": "• {kind}: <code>{text}</code>",
        "zh": "• {kind}：<code>{text}</code>",
    },
    "privacy_kind_mobile": {"en": "mobile number", "zh": "手机号"},
    "privacy_kind_landline": {"en": "landline number", "zh": "固定电话"},
    "privacy_kind_id_number": {"en": "ID number", "zh": "身份证号"},
    "privacy_kind_address": {"en": "room or building address", "zh": "门牌地址"},
    "button_privacy_move": {
        "en": "Move it to the private details",
        "zh": "移到隐私信息中",
    },
    "button_privacy_keep": {
        "en": "Post as is",
        "zh": "按原样发布",
    },
    "post_ask_summary_again": {
        "en": (
            "Send the public summary again, without those; the private details come next.\n"
            "/cancel stops."
        ),
        "zh": "请重新发送公开摘要，去掉这些内容；隐私信息在下一步填写。\n/cancel 取消。",
    },
    "card_title": {
        "en": "<b>Need #{id}</b>",
        "zh": "<b>需求 #{id}</b>",
    },
    "card_open": {
        "en": "Open: tap Claim to pair up.",
        "zh": "待认领：点“认领”结对。",
    },
    "card_claimed": {
        "en": "Claimed by {name}",
        "zh": "已由 {name} 认领",
    },
    "card_last_visit": {
        "en": "Last visit: {date}",
        "zh": "最近走访：{date}",
    },
    "card_closed": {
        "en": "Closed.",
        "zh": "已关闭。",
    },
    "button_claim": {
        "en": "Claim",
        "zh": "认领",
    },
    "button_release": {
        "en": "Release this pairing",
        "zh": "放弃此结对",
    },
    "answer_won": {
        "en": "It's yours! The household's details are in your private chat with me.",
        "zh": "认领成功！家庭详细信息已私信发给您。",
    },
    "answer_won_open_bot": {
        "en": "It's yours! Open the chat with me to receive the household's details.",
        "zh": "认领成功！请打开与我的私聊接收家庭详细信息。",
    },
    "answer_taken": {
        "en": "Already claimed by {name}.",
        "zh": "已被 {name} 认领。",
    },
    "answer_already_yours": {
        "en": "You already hold this one.",
        "zh": "您已认领此需求。",
    },
    "answer_limit": {
        "en": "You already hold {count} open claims, the most allowed. Release one first.",
        "zh": "您已有 {count} 个结对，已达上限。请先放弃一个。",
    },
    "answer_not_found": {
        "en": "This need no longer exists.",
        "zh": "此需求已不存在。",
    },
    "answer_closed": {
        "en": "This need is closed.",
        "zh": "此需求已关闭。",
    },
    "answer_bad_button": {
        "en": "This button is not valid.",
        "zh": "此按钮无效。",
    },
    "details_intro": {
        "en": "You are paired with <b>need #{id}</b>:\n{summary}",
        "zh": "您已与<b>需求 #{id}</b> 结对：\n{summary}",
    },
    "details_private": {
        "en": "<b>Private, do not share in the group:</b>",
        "zh": "<b>隐私信息，请勿在群里分享：</b>",
    },
    "details_none": {
        "en": "No private details were recorded; ask a coordinator.",
        "zh": "未登记隐私信息，请联系协调员。",
    },
    "details_outro": {
        "en": "If you cannot keep this pairing, release it so someone else can.",
        "zh": "如无法继续结对，请放弃，以便他人认领。",
    },
    "label_name": {"en": "Name: ", "zh": "姓名："},
    "label_address": {"en": "Address: ", "zh": "地址："},
    "label_phone": {"en": "Phone: ", "zh": "电话："},
    "label_health": {"en": "Health: ", "zh": "健康："},
    "label_notes": {"en": "Notes: ", "zh": "备注："},
    "release_done": {
        "en": "You released need #{id}. It is open again in the group.",
        "zh": "您已放弃需求 #{id}，它已在群里重新开放。",
    },
    "release_not_holder": {
        "en": "You don't hold need #{id}.",
        "zh": "您没有认领需求 #{id}。",
    },
    "release_not_claimed": {
        "en": "Need #{id} is not claimed.",
        "zh": "需求 #{id} 尚未被认领。",
    },
    "release_stale": {
        "en": "This pairing has already ended.",
        "zh": "此结对已经结束。",
    },
    "release_usage": {
        "en": "Which one? Send /release &lt;number&gt;. You hold: {numbers}",
        "zh": "放弃哪一个？请发送 /release &lt;编号&gt;。您的结对：{numbers}",
    },
    "release_none": {
        "en": "You hold no needs.",
        "zh": "您目前没有结对。",
    },
    "free_usage": {
        "en": "Usage: /free &lt;need number&gt;",
        "zh": "用法：/free &lt;需求编号&gt;",
    },
    "free_done": {
        "en": "Need #{id} is open again (it was held by {name}).",
        "zh": "需求 #{id} 已重新开放（原认领人：{name}）。",
    },
    "notify_freed": {
        "en": "A coordinator ended your pairing with need #{id}.",
        "zh": "协调员已解除您与需求 #{id} 的结对。",
    },
    "reassign_usage": {
        "en": "Usage: /reassign &lt;need number&gt; &lt;user id or @username&gt;",
        "zh": "用法：/reassign &lt;需求编号&gt; &lt;用户ID或@用户名&gt;",
    },
    "reassign_done": {
        "en": "Need #{id} is now held by {name}.",
        "zh": "需求 #{id} 现由 {name} 认领。",
    },
    "reassign_unknown": {
        "en": ("I don't know that person yet: they must tap a button or send /start to me first."),
        "zh": "我还不认识此人：请对方先点一次按钮或私聊我发送 /start。",
    },
    "reassign_same": {
        "en": "{name} already holds need #{id}.",
        "zh": "{name} 已经认领了需求 #{id}。",
    },
    "notify_assigned": {
        "en": "A coordinator paired you with need #{id}.",
        "zh": "协调员已为您分配需求 #{id}。",
    },
    "mine_none": {
        "en": "You hold no needs yet. Tap Claim on a card in the group.",
        "zh": "您还没有结对。在群里点需求卡片上的“认领”。",
    },
    "mine_header": {
        "en": "<b>Your pairings ({count})</b>",
        "zh": "<b>我的结对（{count}）</b>",
    },
    "mine_item": {
        "en": "#{id} · {summary} · since {date}",
        "zh": "#{id} · {summary} · {date} 起",
    },
    "mine_group_hint": {
        "en": "The households' details are in your private chat with me: send /mine there.",
        "zh": "家庭详细信息请在与我的私聊中发送 /mine 查看。",
    },
    "status": {
        "en": "<b>Needs: {total}</b>\nOpen {open} · claimed {claimed} · closed {closed}",
        "zh": "<b>需求共 {total} 个</b>\n待认领 {open} · 已认领 {claimed} · 已关闭 {closed}",
    },
    "show_usage": {
        "en": "Usage: /show &lt;need number&gt;",
        "zh": "用法：/show &lt;需求编号&gt;",
    },
    "reason_released": {"en": "released", "zh": "本人放弃"},
    "reason_freed": {"en": "freed by a coordinator", "zh": "协调员解除"},
    "reason_reassigned": {"en": "reassigned", "zh": "改派"},
    "state_open": {"en": "open", "zh": "待认领"},
    "state_claimed": {"en": "claimed", "zh": "已认领"},
    "state_closed": {"en": "closed", "zh": "已关闭"},
    "lang_usage": {
        "en": "Usage: /lang zh or /lang en",
        "zh": "用法：/lang zh 或 /lang en",
    },
    "lang_set": {
        "en": "I will speak English with you.",
        "zh": "我将用中文与您交流。",
    },
    "deeplink_invalid": {
        "en": "This link is not yours, or that pairing has ended. /mine shows your pairings.",
        "zh": "此链接不属于您，或该结对已结束。/mine 查看您的结对。",
    },
    "error_try_again": {
        "en": "Something went wrong on my side; please try again in a moment.",
        "zh": "出了点问题，请稍后重试。",
    },
}


# Each feature's strings live beside it; one catalog, and one key in one place only.
for _part in (VISITS, REMINDERS, EXPORT, LIFE, BOARDS, SLOTS, IMPORT, TEAMS):
    assert not set(_part) & set(CATALOG), set(_part) & set(CATALOG)
    CATALOG.update(_part)


def pick_language(chosen: str | None, language_code: str | None, default: str) -> str:
    """The language to speak: a person's choice, else Telegram's language_code, else default."""
    if chosen in LANGUAGES:
        return chosen
    if language_code:
        base = language_code.lower().split("-")[0]
        if base in LANGUAGES:
            return base
    return default


def t(language: str, key: str, **values: object) -> str:
    """The catalog string for ``key`` in ``language``, with placeholders filled."""
    entry = CATALOG[key]
    template = entry.get(language) or entry["en"]
    return template.format(**values) if values else template
