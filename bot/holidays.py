"""The occasions claimers are reminded of: a country's public holidays and configured dates.

Pure: no Telegram, no database. The country's holidays come from the ``holidays`` library
(each named holiday's first day; days off "in lieu" and eves are not occasions of their own),
lunar entries from borax's Chinese calendar, so every year's dates are computed, never typed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays as holiday_calendars
from borax.calendars.lunardate import LunarDate  # type: ignore[import-untyped]

from bot.config import HolidayConfig, RemindersConfig

log = logging.getLogger(__name__)

# The library's language for each of ours (``holidays`` names languages by locale).
_LOCALES = {"en": "en_US", "zh": "zh_CN"}
# What the library's English names say of days that are not occasions of their own: a day
# off in lieu of a holiday on a weekend, a working day swapped for a day off, an extension,
# and the eve before a holiday.
_NOT_OCCASIONS = ("(observed)", "Day off", "Extended", "Eve")
_BASE_LOCALE = "en_US"


@dataclass(frozen=True, slots=True)
class Occasion:
    """A day claimers are reminded of ahead of time, with its name in each language known."""

    day: date
    name: str  # as configured, or the library's English name
    remind_before: tuple[timedelta, ...]
    names: Mapping[str, str] = field(default_factory=dict)  # language -> name

    def name_in(self, language: str) -> str:
        """The occasion's name for a reader of ``language`` (as configured if not known)."""
        return self.names.get(language) or self.name


def lunar_to_solar(lunar_year: int, month_day: str) -> date:
    """A day of the Chinese lunar calendar (``"MM-DD"`` of ``lunar_year``) as a Gregorian date.

    A 30th in a month that has 29 days this year is taken as the month's last day, so
    "12-30" (New Year's Eve) falls every year.
    """
    month, day = (int(part) for part in month_day.split("-"))
    try:
        solar: date = LunarDate(lunar_year, month, day).to_solar_date()
    except ValueError:
        if day != 30:
            raise
        solar = LunarDate(lunar_year, month, 29).to_solar_date()
    return solar


def configured_occasions(entries: Iterable[HolidayConfig], year: int) -> list[Occasion]:
    """The ``reminders.holidays`` entries that fall in Gregorian ``year``."""
    found = []
    for entry in entries:
        before = tuple(entry.remind_before)
        if entry.date is not None:
            days = [entry.date]
        else:
            assert entry.lunar is not None
            # A lunar year starts in January or February: its late days (Laba, 12-08) fall
            # in the next Gregorian year, so last lunar year's are looked at too.
            days = [lunar_to_solar(y, entry.lunar) for y in (year - 1, year)]
        found += [Occasion(day, entry.name, before) for day in days if day.year == year]
    return found


@functools.lru_cache(maxsize=16)
def _country_days(country: str, year: int) -> tuple[tuple[date, str, dict[str, str]], ...]:
    """Each named holiday's first day in ``year``: the day, its name in the library's own
    base language (English where it has it), and its name per language of ours it has.

    A country the library does not know has none (with one warning: the result is kept).
    The config refuses such a country at load (reminders.country); this is for callers
    that pass one directly.
    """
    try:
        supported = set(holiday_calendars.country_holidays(country).supported_languages)
    except NotImplementedError:
        log.warning("reminders.country %r is not a country the holidays library knows", country)
        return ()
    # English names when there are: the markers above are English; else the library's own.
    base_locale = _BASE_LOCALE if _BASE_LOCALE in supported else None
    default = holiday_calendars.country_holidays(country, years=year, language=base_locale)
    localised = {
        language: holiday_calendars.country_holidays(country, years=year, language=locale)
        for language, locale in _LOCALES.items()
        if locale in supported
    }
    first_days: dict[str, tuple[date, str, dict[str, str]]] = {}
    for day in sorted(default):
        # Several holidays on one day come as a list, in the same order in every language.
        translations = {language: cal.get_list(day) for language, cal in localised.items()}
        for index, name in enumerate(default.get_list(day)):
            if name in first_days or any(marker in name for marker in _NOT_OCCASIONS):
                continue
            names = {lang: found[index] for lang, found in translations.items() if found[index:]}
            first_days[name] = (day, name, names)
    return tuple(sorted(first_days.values(), key=lambda item: item[0]))


def country_occasions(
    country: str, year: int, remind_before: Iterable[timedelta]
) -> list[Occasion]:
    """A country's public holidays in ``year`` (two starting on one day make one occasion);
    none, and a warning, for a country the library does not know."""
    days = _country_days(country.upper(), year)
    before = tuple(remind_before)
    found: dict[date, Occasion] = {}
    for day, name, names in days:
        default = names.get("en", name)
        if day in found:
            earlier = found[day]
            joined = {
                lang: f"{earlier.name_in(lang)} / {names.get(lang, default)}" for lang in _LOCALES
            }
            found[day] = Occasion(day, f"{earlier.name} / {default}", before, joined)
        else:
            found[day] = Occasion(day, default, before, names)
    return list(found.values())


def occasions(config: RemindersConfig, year: int) -> list[Occasion]:
    """Every occasion in ``year``, by date; a configured one replaces the country's holiday
    on the same day (its name and ``remind_before`` are what the coordinators chose)."""
    configured = configured_occasions(config.holidays, year)
    taken = {occasion.day for occasion in configured}
    country = []
    if config.country:
        country = country_occasions(config.country, year, config.country_remind_before)
    merged = configured + [o for o in country if o.day not in taken]
    return sorted(merged, key=lambda occasion: (occasion.day, occasion.name))
