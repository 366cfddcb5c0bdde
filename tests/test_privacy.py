"""Spotting private data (phones, ID numbers, addresses) in a public summary."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.privacy import Finding, find_private_data

HOUSEHOLDS = Path(__file__).parent.parent / "bot" / "data" / "households.csv"


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("Elder, call 13800001234", "mobile", "13800001234"),
        ("电话：138 0000 1234", "mobile", "138 0000 1234"),
        ("tel 139-1234-5678.", "mobile", "139-1234-5678"),
        ("+86 186 1234 5678", "mobile", "+86 186 1234 5678"),
        ("8615912345678", "mobile", "8615912345678"),
        ("手机１３８００００１２３４", "mobile", "13800001234"),  # full-width digits
        ("家里电话010-12345678", "landline", "010-12345678"),
        ("0755 1234 5678 after 6pm", "landline", "0755 1234 5678"),
        ("(021)87654321", "landline", "(021)87654321"),
        ("身份证110101199003071234", "id_number", "110101199003071234"),
        ("ID 11010119900307123X", "id_number", "11010119900307123X"),
        ("住3号楼2单元501室，需要米面油", "address", "3号楼2单元501室"),
        ("东风社区5栋302", "address", "5栋302"),
        ("B座1203", "address", "B座1203"),
        ("2单元601", "address", "2单元601"),
        ("住在402室", "address", "402室"),
        ("人民路12号", "address", "人民路12号"),
        ("Room 302, Building 7, needs rice", "address", "Room 302, Building 7"),
        ("Building 11, Unit 3, Room 402", "address", "Building 11, Unit 3, Room 402"),
        ("Flat 5B needs a visit", "address", "Flat 5B"),
        ("lives at apt. 12", "address", "apt. 12"),
        ("住Room 302", "address", "Room 302"),
        ("7 Hidden Lane", "address", "7 Hidden Lane"),
    ],
)
def test_private_data_is_found_with_its_kind_and_text(text, kind, found):
    assert find_private_data(text) == [Finding(kind, found)]


@pytest.mark.parametrize(
    "text",
    [
        "需要大米和食用油，3袋",
        "2 bags of rice",
        "Spring Festival 2027",
        "needs help on Mondays",
        "Empty-nest elder, Dongfeng: company and help with heavy shopping (rice, oil)",
        "独居老人，东风社区：每月12号送米，3室1厅需要打扫",
        "visits on 2027-02-06 at 09:00, 10 kg of flour, 30 eggs",
        "12号楼的邻居可以帮忙",  # a building alone does not point at a door
        "Building 7 residents' committee",
        "meeting at 1300, budget 150000 yuan",
        "a 12-digit number 123456789012 is not a phone",
        "1380000123",  # ten digits: not a mobile
        "138000012345",  # twelve digits: not one either
        "room for two more volunteers",
        "",
    ],
)
def test_ordinary_summaries_find_nothing(text):
    assert find_private_data(text) == []


def test_several_findings_in_reading_order_each_once():
    text = "5栋302, 电话13800001234 / 010-12345678, ID 110101199003071234"
    assert find_private_data(text) == [
        Finding("address", "5栋302"),
        Finding("mobile", "13800001234"),
        Finding("landline", "010-12345678"),
        Finding("id_number", "110101199003071234"),
    ]


def test_the_demo_households_summaries_pass_and_their_details_are_caught():
    with HOUSEHOLDS.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert rows
    for row in rows:
        for summary in (
            f"{row['category_en'].capitalize()}, {row['neighbourhood_en']}: {row['help_en']}",
            f"{row['category_zh']}，{row['neighbourhood_zh']}：{row['help_zh']}",
        ):
            assert find_private_data(summary) == [], summary
        for detail in (row["address_en"], row["address_zh"], row["phone"]):
            assert find_private_data(detail), detail
