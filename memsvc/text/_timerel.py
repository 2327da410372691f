"""Relative time expressions for ``timeexpr``: "N units ago", "the past N weeks", "last/this
week", "yesterday", "this morning", weekdays.

The patterns are hand-written because no maintained library finds past time expressions in
running chat text and resolves them to the ranges recall filters on (``dateutil.parser`` reads
one date string; dateparser and parsedatetime give a point, not the week of "last week" or the
slack of "about a month ago"); the date arithmetic is python-dateutil's ``relativedelta``.

A resolver gets the match and the reference time (naive wall clock) and returns
``(start, end, kind)``, or None when the match is not a usable *past* expression ("next
Monday", "every Tuesday"). ``timeexpr`` then clips, filters and picks among the candidates.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from memsvc.text._timewords import (
    DAY,
    QTY,
    WEEKDAY_RE,
    WEEKDAYS,
    Resolver,
    Span,
    add_months,
    dt,
    parse_qty,
    span,
    week_start,
)


def _shift(d: date, n: int, unit: str) -> date:
    """``d`` moved ``n`` units (negative = into the past); a month or year later the day is
    clamped to the month's length (Jan 31 + 1 month = Feb 28 or 29)."""
    return d + _UNIT_STEP[unit] * n


_UNIT_STEP = {
    "day": relativedelta(days=1),
    "week": relativedelta(weeks=1),
    "fortnight": relativedelta(weeks=2),
    "month": relativedelta(months=1),
    "year": relativedelta(years=1),
}


# Slack around "N units ago" so an approximate statement still covers the event.
_SLACK_DAYS = {"day": 1, "week": 3, "fortnight": 4, "month": 15, "year": 182}
_UNIT = r"(?P<unit>day|week|fortnight|month|year)s?"


def _ago(m: re.Match[str], now: datetime) -> Span | None:
    qty = parse_qty(m.group("qty"))
    if qty is None:
        return None
    lo, hi = qty
    unit = m.group("unit").lower()
    today = now.date()
    slack = timedelta(days=_SLACK_DAYS[unit] if (unit, hi) != ("day", 1) else 0)
    start = _shift(today, -hi, unit) - slack
    end = _shift(today, -lo, unit) + slack + DAY
    return span(start, end, "relative")


AGO = re.compile(rf"\b(?P<qty>{QTY})\s+{_UNIT}\s+(?:ago|back)\b", re.I)


def _calendar(period: str, last: bool, today: date) -> tuple[date, date] | None:
    """this/last week, month, year, weekend as calendar periods."""
    ws = week_start(today)
    tomorrow = today + DAY
    if period == "week":
        return (ws - timedelta(days=7), ws) if last else (ws, tomorrow)
    if period == "month":
        first = today.replace(day=1)
        return (add_months(first, -1), first) if last else (first, tomorrow)
    if period == "year":
        first = date(today.year, 1, 1)
        return (date(today.year - 1, 1, 1), first) if last else (first, tomorrow)
    # weekend
    if last:
        return ws - timedelta(days=2), ws
    if today.weekday() >= 5:
        return ws + timedelta(days=5), tomorrow
    return None  # "this weekend" on a weekday is still to come


ROLLING = re.compile(
    r"\b(?P<the>(?:(?:over|in|during|within|for|throughout)\s+)?the\s+)?"
    r"(?P<this>this\s+)?(?P<which>past|last|previous)\s+"
    rf"(?:(?P<qty>{QTY})\s+)?(?P<unit>day|week|weekend|fortnight|month|year)(?P<pl>s)?\b"
    r"(?!\s+(?:of|before|after|that|when|where)\b)",
    re.I,
)


def _rolling(m: re.Match[str], now: datetime) -> Span | None:
    today = now.date()
    unit = m.group("unit").lower()
    which = m.group("which").lower()
    raw_qty = m.group("qty")
    plural = bool(m.group("pl"))
    if raw_qty is None and not plural:
        if m.group("this") and unit == "weekend":  # "this past weekend"
            cal = _calendar("weekend", True, today)
            return span(*cal, "named_period") if cal else None
        if not m.group("the") and which != "past":
            # "last week", "previous month": the calendar period before the current one.
            if unit == "day":
                return None  # "last day" is an ordinal, not a period
            if unit != "fortnight":
                cal = _calendar(unit, True, today)
                return span(*cal, "named_period") if cal else None
    if raw_qty is None and plural and not (m.group("the") and which != "previous"):
        return None  # "past years", "the previous weeks": too vague to bound
    qty = parse_qty(raw_qty) if raw_qty else (1, 3 if plural else 1)  # "the past weeks" ≈ 3
    if qty is None:
        return None
    n = qty[1]
    return span(_shift(today, -n, "week" if unit == "weekend" else unit), today + DAY, "relative")


CALENDAR = re.compile(
    r"\b(?P<earlier>earlier\s+)?this\s+(?P<unit>week|month|year|weekend)\b"
    r"(?!\s+(?:of|before|after)\b)",
    re.I,
)


def _this(m: re.Match[str], now: datetime) -> Span | None:
    cal = _calendar(m.group("unit").lower(), False, now.date())
    return span(*cal, "named_period") if cal else None


WEEKEND = re.compile(r"\b(?:over|on|during|at)\s+the\s+weekend\b", re.I)


def _weekend(m: re.Match[str], now: datetime) -> Span | None:
    today = now.date()
    cal = _calendar("weekend", today.weekday() < 5, today)
    return span(*cal, "named_period") if cal else None


DAYWORD = re.compile(
    r"\b(?:(?P<dby>the\s+day\s+before\s+yesterday)|(?P<lastnight>last\s+night)"
    r"|(?P<day>yesterday|today|tonight|earlier\s+today)"
    r"(?:\s+(?P<part1>morning|afternoon|evening|night))?"
    r"|this\s+(?P<part2>morning|afternoon|evening))\b",
    re.I,
)
_PARTS = {"morning": (0, 12), "afternoon": (12, 18), "evening": (17, 24), "night": (17, 30)}


def _dayword(m: re.Match[str], now: datetime) -> Span | None:
    today = now.date()
    if m.group("dby"):
        return span(today - 2 * DAY, today - DAY, "relative")
    if m.group("lastnight"):
        return dt(today - DAY, 17), dt(today, 6), "relative"
    word = (m.group("day") or "today").lower().split()[-1]
    base = today - DAY if word == "yesterday" else today
    part = (m.group("part1") or m.group("part2") or "").lower()
    if word == "tonight":
        part = "night"
    if part:
        lo, hi = _PARTS[part]
        return dt(base, lo), dt(base, hi), "relative"
    return span(base, base + DAY, "relative")


OTHER_DAY = re.compile(r"\bthe\s+other\s+day\b", re.I)


def _other_day(m: re.Match[str], now: datetime) -> Span | None:
    today = now.date()
    return span(today - timedelta(days=7), today, "relative")


WEEKDAY = re.compile(
    r"\b(?P<mod>last|this\s+past|past|this|on|since|that|next|every|each|coming|following)?\s*"
    rf"\b(?P<wd>{WEEKDAY_RE})(?P<pl>s)?\b(?:\s+(?P<part>morning|afternoon|evening|night))?",
    re.I,
)


def _weekday(m: re.Match[str], now: datetime) -> Span | None:
    mod = re.sub(r"\s+", " ", (m.group("mod") or "").lower())
    if m.group("pl") or mod in ("next", "every", "each", "coming", "following"):
        return None  # a recurring or future day
    if not mod and not m.group("part"):
        return None  # a bare "Sunday" is too often a modifier ("Sunday brunch")
    today = now.date()
    back = (today.weekday() - WEEKDAYS[m.group("wd").lower()]) % 7
    if mod in ("last", "this past", "past") and back == 0:
        back = 7
    if mod == "this" and back > today.weekday():
        return None  # later this week
    d = today - timedelta(days=back)
    return span(d, d + DAY, "relative")


RELATIVE_RULES: list[tuple[re.Pattern[str], Resolver]] = [
    (AGO, _ago),
    (ROLLING, _rolling),
    (CALENDAR, _this),
    (WEEKEND, _weekend),
    (DAYWORD, _dayword),
    (OTHER_DAY, _other_day),
    (WEEKDAY, _weekday),
]
