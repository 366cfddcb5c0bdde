"""Holiday dates: the country's from the holidays library, lunar entries from borax."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.config import RemindersConfig
from bot.holidays import (
    Occasion,
    configured_occasions,
    country_occasions,
    lunar_to_solar,
    occasions,
)

DAY = timedelta(days=1)


def settings(**values: object) -> RemindersConfig:
    return RemindersConfig.model_validate(values)


def by_day(found: list[Occasion]) -> dict[date, Occasion]:
    return {occasion.day: occasion for occasion in found}


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2027,
            {
                date(2027, 1, 1): ("New Year's Day", "元旦"),
                date(2027, 2, 6): ("Chinese New Year (Spring Festival)", "春节"),
                date(2027, 4, 5): ("Tomb-Sweeping Day", "清明节"),
                date(2027, 5, 1): ("Labor Day", "劳动节"),
                date(2027, 6, 9): ("Dragon Boat Festival", "端午节"),
                date(2027, 9, 15): ("Mid-Autumn Festival", "中秋节"),
                date(2027, 10, 1): ("National Day", "国庆节"),
            },
        ),
        (
            2028,
            {
                date(2028, 1, 1): ("New Year's Day", "元旦"),
                date(2028, 1, 26): ("Chinese New Year (Spring Festival)", "春节"),
                date(2028, 4, 4): ("Tomb-Sweeping Day", "清明节"),
                date(2028, 5, 1): ("Labor Day", "劳动节"),
                date(2028, 5, 28): ("Dragon Boat Festival", "端午节"),
                date(2028, 10, 1): ("National Day", "国庆节"),
                # On the third day of National Day: its own first day, its own occasion.
                date(2028, 10, 3): ("Mid-Autumn Festival", "中秋节"),
            },
        ),
    ],
)
def test_chinas_holidays_first_days_with_names_in_both_languages(year, expected):
    found = country_occasions("CN", year, [3 * DAY])
    # Eves, days off in lieu ("observed") and the 2nd, 3rd... day of a holiday are not
    # occasions of their own.
    assert {o.day: (o.name_in("en"), o.name_in("zh")) for o in found} == expected
    assert all(o.remind_before == (3 * DAY,) for o in found)


def test_holidays_starting_on_one_day_make_one_occasion():
    (october,) = [o for o in country_occasions("CN", 2020, [DAY]) if o.day == date(2020, 10, 1)]
    assert october.name_in("en") == "Mid-Autumn Festival / National Day"
    assert october.name_in("zh") == "中秋节 / 国庆节"


def test_an_unknown_country_has_no_holidays(caplog):
    assert country_occasions("ZZ", 2027, [DAY]) == []
    assert "ZZ" in caplog.text


@pytest.mark.parametrize(
    ("lunar_year", "month_day", "expected"),
    [
        (2027, "01-15", date(2027, 2, 20)),  # Lantern Festival
        (2027, "09-09", date(2027, 10, 8)),  # Double Ninth
        (2028, "09-09", date(2028, 10, 26)),
        (2028, "01-15", date(2028, 2, 9)),
        (2027, "08-15", date(2027, 9, 15)),  # Mid-Autumn: as the library says
        (2027, "12-08", date(2028, 1, 4)),  # Laba falls in the next Gregorian year
    ],
)
def test_lunar_days_become_gregorian_dates(lunar_year, month_day, expected):
    assert lunar_to_solar(lunar_year, month_day) == expected


def test_a_30th_that_a_lunar_month_lacks_is_its_last_day():
    # The 12th month of lunar 2027 has 29 days: New Year's Eve is its 29th.
    eve = lunar_to_solar(2027, "12-30")
    assert eve + DAY == date(2028, 1, 26)  # the Spring Festival of 2028


def test_configured_lunar_and_dated_entries_for_2027_and_2028():
    entries = settings(
        country=None,
        holidays=[
            {"name": "Lantern Festival", "lunar": "01-15", "remind_before": ["2d"]},
            {"name": "Double Ninth", "lunar": "09-09", "remind_before": ["2d", "1d"]},
            {"name": "Laba", "lunar": "12-08"},
            {"name": "Spring Festival", "date": "2027-02-06", "remind_before": ["7d"]},
        ],
    ).holidays
    in_2027 = by_day(configured_occasions(entries, 2027))
    assert sorted(in_2027) == [
        date(2027, 1, 15),  # Laba of lunar 2026
        date(2027, 2, 6),
        date(2027, 2, 20),
        date(2027, 10, 8),
    ]
    assert in_2027[date(2027, 10, 8)].remind_before == (2 * DAY, DAY)
    assert in_2027[date(2027, 2, 6)].remind_before == (7 * DAY,)
    in_2028 = by_day(configured_occasions(entries, 2028))
    assert sorted(in_2028) == [date(2028, 1, 4), date(2028, 2, 9), date(2028, 10, 26)]
    assert in_2028[date(2028, 10, 26)].name_in("zh") == "Double Ninth"  # as configured


def test_a_configured_entry_replaces_the_countrys_holiday_on_its_day():
    config = settings(
        country="CN",
        country_remind_before=["3d"],
        holidays=[{"name": "春节 Spring Festival", "date": "2027-02-06", "remind_before": ["7d"]}],
    )
    found = by_day(occasions(config, 2027))
    spring = found[date(2027, 2, 6)]
    assert spring.name_in("zh") == "春节 Spring Festival"
    assert spring.remind_before == (7 * DAY,)
    assert found[date(2027, 9, 15)].remind_before == (3 * DAY,)
    assert [o.day for o in occasions(config, 2027)] == sorted(found)


def test_country_null_leaves_only_the_configured_entries():
    config = settings(country=None, holidays=[{"name": "Visit day", "date": "2027-03-01"}])
    assert [o.day for o in occasions(config, 2027)] == [date(2027, 3, 1)]
