"""Telegram's HTML mode and command entities, without a server."""

from __future__ import annotations

import pytest

from bot.emulator import EntityParseError, bot_link_payload, command_entities, parse_html


def test_html_entities_with_utf16_offsets() -> None:
    text, entities = parse_html('😀 <b>Reis</b> &amp; <a href="https://e.org/?a=1&amp;b=2">Öl</a>')
    assert text == "😀 Reis & Öl"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},  # the emoji is two UTF-16 units
        {"type": "text_link", "offset": 10, "length": 2, "url": "https://e.org/?a=1&b=2"},
    ]


def test_nested_and_special_tags() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote><i></i>'
    )
    assert text == "x = 1sq"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 5, "length": 1},
        {"type": "expandable_blockquote", "offset": 6, "length": 1},
    ]


def test_unknown_character_references_stay_as_typed() -> None:
    assert parse_html("R&D &copy; &#65;&#x42;")[0] == "R&D &copy; AB"


@pytest.mark.parametrize(
    "source", ["<b>x", "<b><i>x</b></i>", "<span>x</span>", "a<b", "<br/>", "x</b>"]
)
def test_malformed_html(source: str) -> None:
    with pytest.raises(EntityParseError):
        parse_html(source)


def test_command_entities() -> None:
    assert command_entities("/start abc") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert command_entities("Ü /mine@claimbot_demo_bot") == [
        {"type": "bot_command", "offset": 2, "length": 23}
    ]
    assert command_entities("a/b and https://x.org/y") == []


@pytest.mark.parametrize(
    ("url", "payload"),
    [
        ("https://t.me/claimbot_demo_bot?start=d-12_x", "d-12_x"),
        ("t.me/ClaimBot_Demo_Bot?start=abc", "abc"),
        ("https://t.me/claimbot_demo_bot", ""),
        ("tg://resolve?domain=claimbot_demo_bot&start=abc", "abc"),
        ("https://t.me/other_bot?start=abc", None),
        ("https://t.me/claimbot_demo_bot?start=" + "x" * 65, None),
        ("https://t.me/claimbot_demo_bot?startgroup=abc", None),
    ],
)
def test_bot_links(url: str, payload: str | None) -> None:
    assert bot_link_payload(url, "claimbot_demo_bot") == payload
