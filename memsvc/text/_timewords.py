"""Vocabulary and calendar arithmetic for ``timeexpr``: numbers, months, weekdays, seasons,
holidays. Pure date math on naive wall-clock dates; the caller attaches the time zone.

The arithmetic is python-dateutil's (``relativedelta`` for months, years and the n-th weekday,
``dateutil.easter``); what stays here is vocabulary: the words people use for numbers,
seasons and holidays, which no date library parses in running text (``dateutil.parser``
reads one date string, it does not find "the second Sunday of May" in a sentence).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from dateutil.easter import easter
from dateutil.relativedelta import MO, relativedelta, weekday

NUMBER_WORDS: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
}
# Vague quantities as (low, high) counts: "a few days ago" = 2 to 5 days ago.
VAGUE: dict[str, tuple[int, int]] = {
    "couple": (2, 3),
    "few": (2, 5),
    "several": (3, 7),
    "handful": (3, 6),
}
# Alternation for a count, longest alternatives first so "a few" wins over "a".
QTY = (
    r"(?:\d{1,3}|(?:a\s+)?(?:couple|few|handful)(?:\s+of)?|several|"
    + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    + r")"
)


def parse_qty(raw: str) -> tuple[int, int] | None:
    """A count phrase → (low, high); None when it is not a count."""
    s = re.sub(r"\s+", " ", raw.strip().lower())
    if s.isdigit():
        n = int(s)
        return (n, n) if n > 0 else None
    for word, rng in VAGUE.items():
        if word in s.split():
            return rng
    word_n = NUMBER_WORDS.get(s)
    return (word_n, word_n) if word_n else None


MONTHS: dict[str, int] = {}
for _i, _name in enumerate(calendar.month_name):
    if _name:
        MONTHS[_name.lower()] = _i
        MONTHS[_name[:3].lower()] = _i
MONTHS["sept"] = 9
FULL_MONTH_RE = "|".join(n.lower() for n in calendar.month_name if n)
ANY_MONTH_RE = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"
# Month names that are also common English words; accepted only when capitalised.
AMBIGUOUS_MONTHS = frozenset({"may", "march", "mar", "jan"})

WEEKDAYS: dict[str, int] = {n.lower(): i for i, n in enumerate(calendar.day_name)}
WEEKDAY_RE = "|".join(WEEKDAYS)

SEASON_START_MONTH = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}


def add_months(d: date, n: int) -> date:
    """``d`` shifted by ``n`` calendar months, the day clamped to the target month's length."""
    return d + relativedelta(months=n)


def month_span(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    return start, add_months(start, 1)


def week_start(d: date) -> date:
    """The Monday of ``d``'s ISO week."""
    return d + relativedelta(weekday=MO(-1))


def season_span(season: str, year: int) -> tuple[date, date]:
    """Meteorological seasons of the northern hemisphere; winter ``year`` is Dec (year-1) to
    Feb ``year``."""
    m = SEASON_START_MONTH[season]
    start = date(year - 1, 12, 1) if season == "winter" else date(year, m, 1)
    return start, add_months(start, 3)


def latest_month(today: date, month: int, *, strictly_before: bool = False) -> int:
    """Year of the most recent ``month`` on or before ``today``'s month (strictly before when
    asked: "last May" said in May means a year ago)."""
    if month < today.month or (month == today.month and not strictly_before):
        return today.year
    return today.year - 1


def nth_weekday(year: int, month: int, wd: int, n: int) -> date:
    """The ``n``-th weekday ``wd`` (0 = Monday) of a month; ``n = -1`` for the last one."""
    if n > 0:
        return date(year, month, 1) + relativedelta(weekday=weekday(wd, n))
    return date(year, month, 1) + relativedelta(day=31, weekday=weekday(wd, n))


def holiday(name: str, year: int) -> tuple[date, date] | None:
    """(first day, day after) of a US/Western holiday in ``year``; None if unknown."""
    n = re.sub(r"[^a-z ]", "", name.lower().replace("’", "'").replace("'", ""))
    n = re.sub(r"\s+", " ", n).strip().removeprefix("the ")
    fixed = {
        "valentines day": (2, 14),
        "valentines": (2, 14),
        "christmas eve": (12, 24),
        "christmas": (12, 25),
        "christmas day": (12, 25),
        "new years eve": (12, 31),
        "new years day": (1, 1),
        "new years": (1, 1),
        "halloween": (10, 31),
        "independence day": (7, 4),
        "fourth of july": (7, 4),
        "st patricks day": (3, 17),
        "saint patricks day": (3, 17),
    }
    if n in fixed:
        d = date(year, *fixed[n])
    elif n == "thanksgiving":
        d = nth_weekday(year, 11, 3, 4)
    elif n in ("easter", "easter sunday"):
        d = easter(year)  # Gregorian (dateutil's EASTER_WESTERN)
    elif n == "memorial day":
        d = nth_weekday(year, 5, 0, -1)
    elif n == "labor day":
        d = nth_weekday(year, 9, 0, 1)
    elif n == "mothers day":
        d = nth_weekday(year, 5, 6, 2)
    elif n == "fathers day":
        d = nth_weekday(year, 6, 6, 3)
    else:
        return None
    return d, d + timedelta(days=1)


HOLIDAY_RE = (
    r"(?:valentine'?s(?:\s+day)?|christmas(?:\s+eve|\s+day)?|new\s+year'?s(?:\s+eve|\s+day)?"
    r"|halloween|thanksgiving|easter(?:\s+sunday)?|independence\s+day|(?:the\s+)?fourth\s+of\s+july"
    r"|memorial\s+day|labor\s+day|mother'?s\s+day|father'?s\s+day|st\.?\s+patrick'?s\s+day)"
)


# --- shared by the rule modules -------------------------------------------------------------

# A resolved candidate: (start, end, kind), naive wall-clock datetimes.
Span = tuple[datetime, datetime, str]
Resolver = Callable[[re.Match[str], datetime], Span | None]

DAY = timedelta(days=1)


def dt(d: date, hour: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day) + timedelta(hours=hour)


def span(start: date, end: date, kind: str) -> Span:
    return dt(start), dt(end), kind
