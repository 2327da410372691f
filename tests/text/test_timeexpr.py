from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from memsvc.text.timeexpr import TimeRange, parse_time_range

AS_OF = datetime(2023, 5, 24, 15, 0)  # a Wednesday


def _d(s: str) -> datetime:
    return datetime.fromisoformat(s)


# (query, start, end, matched text, kind) with AS_OF as the reference.
CASES = [
    ("what did I do yesterday?", "2023-05-23", "2023-05-24", "yesterday", "relative"),
    ("anything today", "2023-05-24", "2023-05-25", "today", "relative"),
    ("what am I cooking tonight", "2023-05-24T17", "2023-05-25", "tonight", "relative"),
    ("this morning I ran", "2023-05-24", "2023-05-24T12", "this morning", "relative"),
    ("last night's dinner", "2023-05-23T17", "2023-05-24T06", "last night", "relative"),
    (
        "the day before yesterday",
        "2023-05-22",
        "2023-05-23",
        "the day before yesterday",
        "relative",
    ),
    ("yesterday morning", "2023-05-23", "2023-05-23T12", "yesterday morning", "relative"),
    ("3 days ago", "2023-05-20", "2023-05-23", "3 days ago", "relative"),
    ("a day ago", "2023-05-23", "2023-05-24", "a day ago", "relative"),
    ("two weeks ago", "2023-05-07", "2023-05-14", "two weeks ago", "relative"),
    ("a couple of days ago", "2023-05-20", "2023-05-24", "a couple of days ago", "relative"),
    ("a few days ago", "2023-05-18", "2023-05-24", "a few days ago", "relative"),
    ("a few months ago", "2022-12-09", "2023-04-09", "a few months ago", "relative"),
    ("10 days back", "2023-05-13", "2023-05-16", "10 days back", "relative"),
    ("last week", "2023-05-15", "2023-05-22", "last week", "named_period"),
    ("this week", "2023-05-22", "2023-05-25", "this week", "named_period"),
    ("past week", "2023-05-17", "2023-05-25", "past week", "relative"),
    ("in the past week", "2023-05-17", "2023-05-25", "in the past week", "relative"),
    ("over the past 10 days", "2023-05-14", "2023-05-25", "over the past 10 days", "relative"),
    ("in the last two months", "2023-03-24", "2023-05-25", "in the last two months", "relative"),
    ("the last few weeks", "2023-04-19", "2023-05-25", "the last few weeks", "relative"),
    ("over the past weeks", "2023-05-03", "2023-05-25", "over the past weeks", "relative"),
    ("last month", "2023-04-01", "2023-05-01", "last month", "named_period"),
    ("this month", "2023-05-01", "2023-05-25", "this month", "named_period"),
    ("last year", "2022-01-01", "2023-01-01", "last year", "named_period"),
    ("earlier this year", "2023-01-01", "2023-05-25", "earlier this year", "named_period"),
    ("last weekend", "2023-05-20", "2023-05-22", "last weekend", "named_period"),
    ("this past weekend", "2023-05-20", "2023-05-22", "this past weekend", "named_period"),
    ("over the weekend", "2023-05-20", "2023-05-22", "over the weekend", "named_period"),
    ("last Monday", "2023-05-22", "2023-05-23", "last Monday", "relative"),
    ("last Wednesday", "2023-05-17", "2023-05-18", "last Wednesday", "relative"),
    ("on Tuesday", "2023-05-23", "2023-05-24", "on Tuesday", "relative"),
    ("on Friday", "2023-05-19", "2023-05-20", "on Friday", "relative"),
    ("this Monday", "2023-05-22", "2023-05-23", "this Monday", "relative"),
    ("Sunday evening", "2023-05-21", "2023-05-22", "Sunday evening", "relative"),
    ("in May", "2023-05-01", "2023-05-25", "in May", "absolute"),
    ("in June", "2022-06-01", "2022-07-01", "in June", "absolute"),
    ("last May", "2022-05-01", "2022-06-01", "last May", "absolute"),
    ("in May 2022", "2022-05-01", "2022-06-01", "May 2022", "absolute"),
    ("in March of 2021", "2021-03-01", "2021-04-01", "March of 2021", "absolute"),
    ("May 20th", "2023-05-20", "2023-05-21", "May 20th", "absolute"),
    ("on May 20, 2021", "2021-05-20", "2021-05-21", "May 20, 2021", "absolute"),
    ("20 May", "2023-05-20", "2023-05-21", "20 May", "absolute"),
    ("on the 10th of June.", "2022-06-10", "2022-06-11", "10th of June", "absolute"),
    ("5 Dec. 2021", "2021-12-05", "2021-12-06", "5 Dec. 2021", "absolute"),
    ("the 3rd of March", "2023-03-03", "2023-03-04", "3rd of March", "absolute"),
    ("Dec 25", "2022-12-25", "2022-12-26", "Dec 25", "absolute"),
    ("2023-05-20", "2023-05-20", "2023-05-21", "2023-05-20", "absolute"),
    ("2023/05/20 (Sat) 10:00", "2023-05-20", "2023-05-21", "2023/05/20", "absolute"),
    ("5/20", "2023-05-20", "2023-05-21", "5/20", "absolute"),
    ("on 3/4", "2023-03-04", "2023-03-05", "3/4", "absolute"),
    ("the 7/22 trip", "2022-07-22", "2022-07-23", "7/22", "absolute"),
    ("12/25/2021", "2021-12-25", "2021-12-26", "12/25/2021", "absolute"),
    ("25/12/2021", "2021-12-25", "2021-12-26", "25/12/2021", "absolute"),
    ("since March", "2023-03-01", "2023-05-25", "since March", "absolute"),
    ("since 2020", "2020-01-01", "2023-05-25", "since 2020", "absolute"),
    ("since last week", "2023-05-15", "2023-05-25", "last week", "named_period"),
    ("early May", "2023-05-01", "2023-05-11", "early May", "absolute"),
    ("mid-April", "2023-04-11", "2023-04-21", "mid-April", "absolute"),
    ("late April", "2023-04-21", "2023-05-01", "late April", "absolute"),
    ("at the end of March", "2023-03-21", "2023-04-01", "the end of March", "absolute"),
    ("in 2022", "2022-01-01", "2023-01-01", "in 2022", "absolute"),
    ("in the 90s", "1990-01-01", "2000-01-01", "in the 90s", "absolute"),
    ("last summer", "2022-06-01", "2022-09-01", "last summer", "named_period"),
    ("in the winter", "2022-12-01", "2023-03-01", "in the winter", "named_period"),
    ("this spring", "2023-03-01", "2023-05-25", "this spring", "named_period"),
    ("in the fall", "2022-09-01", "2022-12-01", "in the fall", "named_period"),
    (
        "during the summer of 2019",
        "2019-06-01",
        "2019-09-01",
        "during the summer of 2019",
        "named_period",
    ),
    ("on Valentine's day", "2023-02-14", "2023-02-15", "on Valentine's day", "absolute"),
    ("on Valentine’s Day", "2023-02-14", "2023-02-15", "on Valentine’s Day", "absolute"),
    ("last Christmas", "2022-12-25", "2022-12-26", "last Christmas", "absolute"),
    ("for Thanksgiving", "2022-11-24", "2022-11-25", "for Thanksgiving", "absolute"),
    ("over Easter", "2023-04-09", "2023-04-10", "over Easter", "absolute"),
    ("on Mother's Day", "2023-05-14", "2023-05-15", "on Mother's Day", "absolute"),
    ("the other day", "2023-05-17", "2023-05-24", "the other day", "relative"),
]


@pytest.mark.parametrize(("query", "start", "end", "text", "kind"), CASES)
def test_parse(query: str, start: str, end: str, text: str, kind: str) -> None:
    r = parse_time_range(query, AS_OF)
    assert r == TimeRange(_d(start), _d(end), text, kind)


@pytest.mark.parametrize(
    "query",
    [
        "next week",
        "tomorrow",
        "next Monday",
        "this Friday",  # later this week
        "this weekend",  # on a Wednesday: still to come
        "this summer",  # not started yet on May 24
        "in two weeks",
        "every Tuesday",
        "on Tuesdays and Thursdays",
        "before the 7/22 trip",
        "after May 5",
        "until June",
        "by May 20",
        "before I moved",
        "recently",
        "lately",
        "a while ago",
        "how many days ago did I go?",
        "How long ago was that?",
        "the last week of May",
        "the fall of Rome",
        "in previous years",
        "in past years",
    ],
)
def test_no_range(query: str) -> None:
    assert parse_time_range(query, AS_OF) is None


def test_most_specific_expression_wins() -> None:
    r = parse_time_range("In May, what did I eat yesterday?", AS_OF)
    assert r is not None and r.text == "yesterday"
    r = parse_time_range("last year, around Christmas", AS_OF)
    assert r is not None and r.text == "around Christmas"
    # equal widths: the earlier one in the text
    r = parse_time_range("May 5 and May 6", AS_OF)
    assert r is not None and r.text == "May 5"


def test_since_extends_to_today_and_future_is_clipped() -> None:
    r = parse_time_range("this year", AS_OF)
    assert r is not None and r.end == datetime(2023, 5, 25)
    r = parse_time_range("since May 20th", AS_OF)
    assert r is not None and (r.start, r.end) == (datetime(2023, 5, 20), datetime(2023, 5, 25))


def test_weekends_and_weekdays_relative_to_a_sunday() -> None:
    sunday = datetime(2023, 5, 28, 1, 56)
    r = parse_time_range("this weekend", sunday)
    assert r is not None and (r.start, r.end) == (datetime(2023, 5, 27), datetime(2023, 5, 29))
    r = parse_time_range("last weekend", sunday)
    assert r is not None and (r.start, r.end) == (datetime(2023, 5, 20), datetime(2023, 5, 22))
    r = parse_time_range("on Sunday", sunday)
    assert r is not None and r.start == datetime(2023, 5, 28)
    r = parse_time_range("last Sunday", sunday)
    assert r is not None and r.start == datetime(2023, 5, 21)


def test_year_boundaries() -> None:
    jan = datetime(2024, 1, 3, 9, 0)
    assert parse_time_range("last month", jan) == TimeRange(
        datetime(2023, 12, 1), datetime(2024, 1, 1), "last month", "named_period"
    )
    r = parse_time_range("in December", jan)
    assert r is not None and r.start == datetime(2023, 12, 1)
    r = parse_time_range("last winter", jan)  # the current winter is not over yet
    assert r is not None and (r.start, r.end) == (datetime(2022, 12, 1), datetime(2023, 3, 1))
    r = parse_time_range("a month ago", datetime(2024, 3, 31))
    assert r is not None and r.start == datetime(2024, 2, 14)  # Feb 29 - 15 days


def test_leap_day_and_invalid_dates() -> None:
    assert parse_time_range("Feb 30", AS_OF) is None
    assert parse_time_range("2023-13-01", AS_OF) is None
    r = parse_time_range("Feb 29", datetime(2024, 3, 10))
    assert r is not None and r.start == datetime(2024, 2, 29)
    # A day-month without a year looks back at most two years: no Feb 29 in 2021-2023.
    assert parse_time_range("Feb 29", AS_OF) is None


def test_aware_as_of_gives_aware_ranges_in_its_zone() -> None:
    tz = ZoneInfo("America/New_York")
    as_of = datetime(2023, 3, 13, 10, 0, tzinfo=tz)  # the day after the DST switch
    r = parse_time_range("yesterday", as_of)
    assert r is not None
    assert r.start == datetime(2023, 3, 12, tzinfo=tz) and r.end == datetime(2023, 3, 13, tzinfo=tz)
    assert r.start.tzinfo is tz and r.end.tzinfo is tz
    assert r.start.utcoffset() == timedelta(hours=-5) and r.end.utcoffset() == timedelta(hours=-4)
    utc = parse_time_range("today", datetime(2023, 5, 24, 23, 0, tzinfo=UTC))
    assert utc is not None and utc.start.tzinfo is UTC


def test_naive_as_of_gives_naive_ranges() -> None:
    r = parse_time_range("last week", AS_OF)
    assert r is not None and r.start.tzinfo is None and r.end.tzinfo is None


def test_contains_and_duration() -> None:
    r = parse_time_range("yesterday", AS_OF)
    assert r is not None
    assert r.contains(datetime(2023, 5, 23, 12)) and not r.contains(datetime(2023, 5, 24))
    assert r.duration == timedelta(days=1)


def test_extreme_reference_times_do_not_crash() -> None:
    for as_of in (datetime.min, datetime.max, datetime(1, 1, 1, 12), datetime(9999, 12, 31)):
        for q in (
            "yesterday",
            "two years ago",
            "last month",
            "in May",
            "last Christmas",
            "2023-05-20",
        ):
            r = parse_time_range(q, as_of)
            assert r is None or r.start < r.end
