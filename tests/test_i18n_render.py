"""Catalog completeness, rendering escapes, and button data shapes."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest

from bot import callbacks
from bot.domain import Holder, Need, PrivateDetails
from bot.i18n import CATALOG, LANGUAGES, pick_language, t
from bot.render import card_markup, card_text, details_message

NOW = datetime(2027, 1, 20, tzinfo=UTC)


def fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_string_in_both_languages_with_the_same_placeholders(key):
    entry = CATALOG[key]
    assert set(entry) == set(LANGUAGES), key
    assert fields_of(entry["zh"]) == fields_of(entry["en"]), key


def test_language_choice():
    assert pick_language("en", "zh-hans", "zh") == "en"
    assert pick_language(None, "zh-hant", "en") == "zh"
    assert pick_language(None, "de", "zh") == "zh"
    assert pick_language(None, None, "en") == "en"


def need(summary: str, holder: Holder | None = None) -> Need:
    return Need(7, -1, 1, summary, 1, NOW, None, holder)


def test_card_escapes_hostile_text_and_has_short_button():
    card = card_text(need("<a href='x'>click</a> & <script>"), "en")
    assert "<a href" not in card and "&lt;a href=&#x27;x&#x27;&gt;" in card
    markup = card_markup(need("x"), "en")
    data = markup.inline_keyboard[0][0].callback_data
    assert data == "c:7" and len(data.encode()) <= 64


def test_claimed_card_names_holder_escaped_and_has_no_button():
    holder = Holder(1, 5, "<b>Eve</b>", "Team & Co", NOW)
    card = card_text(need("rice", holder), "zh")
    assert "已由 &lt;b&gt;Eve&lt;/b&gt; (Team &amp; Co) 认领" in card
    assert card_markup(need("rice", holder), "en") is None


def test_details_message_escapes_details():
    text = details_message(need("x"), PrivateDetails(name="<i>Wang</i>"), "en")
    assert "&lt;i&gt;Wang&lt;/i&gt;" in text
    assert "No private details" in details_message(need("x"), PrivateDetails(), "en")


@pytest.mark.parametrize(
    ("pattern", "data", "expected"),
    [
        (callbacks.CLAIM, "c:12", 12),
        (callbacks.CLAIM, "c:012", None),
        (callbacks.CLAIM, "c:12 ", None),
        (callbacks.CLAIM, "c:1234567890123", None),
        (callbacks.CLAIM, "", None),
        (callbacks.CLAIM, None, None),
        (callbacks.RELEASE, "r:3", 3),
        (callbacks.PICK_GROUP, "g:-100123", -100123),
        (callbacks.DETAILS_LINK, "d_44", 44),
        (callbacks.DETAILS_LINK, "d_44x", None),
    ],
)
def test_callback_data_is_parsed_strictly(pattern, data, expected):
    assert callbacks.parse_id(pattern, data) == expected


def test_all_callback_and_payload_shapes_fit_telegram_limits():
    biggest = 10**12 - 1
    for data in (
        callbacks.claim_data(biggest),
        callbacks.release_data(biggest),
        callbacks.pick_group_data(-(10**19) + 1),
    ):
        assert len(data.encode()) <= 64 and data.isascii()
    payload = callbacks.details_payload(biggest)
    assert len(payload) <= 64 and all(c.isalnum() or c in "_-" for c in payload)
    assert t("en", "card_title", id=1) == "<b>Need #1</b>"
