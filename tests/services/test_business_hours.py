"""Business-hour arithmetic: opening hours, holidays, nights and weekends, and daylight-saving changes."""
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from config import Config
from crm.services.business_hours import BusinessCalendar

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
CENTER_HOURS = {**{weekday: (time(8), time(18)) for weekday in range(4)}, 4: (time(8), time(17))}
MLK_DAY = date(2026, 1, 19)        # a Monday, after the weekend of 2026-01-17/18
THANKSGIVING = date(2026, 11, 26)  # a Thursday
CENTER = BusinessCalendar(NY, CENTER_HOURS)
WITH_HOLIDAYS = BusinessCalendar(NY, CENTER_HOURS, frozenset({MLK_DAY, THANKSGIVING}))


def ny(*args: int) -> datetime:
    """A New York wall-clock instant."""
    return datetime(*args, tzinfo=NY)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def assert_utc(result: datetime, expected: datetime) -> None:
    assert result == expected
    assert result.tzinfo is UTC


# -- is_open --------------------------------------------------------------------------------------

@pytest.mark.parametrize("moment,expected", [
    (ny(2026, 1, 14, 10), True),        # Wednesday morning
    (ny(2026, 1, 14, 8), True),         # opening time is open
    (ny(2026, 1, 14, 17, 59), True),
    (ny(2026, 1, 14, 18), False),       # closing time is closed
    (ny(2026, 1, 14, 20), False),       # evening
    (ny(2026, 1, 14, 7, 59), False),    # early morning
    (ny(2026, 1, 14, 2), False),
    (ny(2026, 1, 15, 17, 30), True),    # Thursday closes at 18:00
    (ny(2026, 1, 16, 16, 59), True),    # Friday closes at 17:00
    (ny(2026, 1, 16, 17), False),
    (ny(2026, 1, 16, 17, 30), False),
    (ny(2026, 1, 17, 12), False),       # Saturday
    (ny(2026, 1, 18, 12), False),       # Sunday
    (utc(2026, 1, 14, 13), True),       # 08:00 EST
    (utc(2026, 1, 14, 12, 59), False),
    (utc(2026, 1, 14, 22, 30), True),   # 17:30 EST
    (utc(2026, 7, 15, 12), True),       # 08:00 EDT
    (utc(2026, 7, 15, 11, 59), False),
    (utc(2026, 7, 15, 22, 30), False),  # 18:30 EDT
    (datetime(2026, 1, 14, 10, tzinfo=LONDON), False),  # 05:00 EST
    (datetime(2026, 1, 14, 15, tzinfo=LONDON), True),   # 10:00 EST
])
def test_is_open(moment, expected):
    assert CENTER.is_open(moment) is expected


def test_holidays_are_closed():
    assert CENTER.is_open(ny(2026, 1, 19, 10))
    assert not WITH_HOLIDAYS.is_open(ny(2026, 1, 19, 10))
    assert not WITH_HOLIDAYS.is_open(ny(2026, 11, 26, 10))
    assert WITH_HOLIDAYS.is_open(ny(2026, 1, 20, 10))


# -- next_opening ----------------------------------------------------------------------------------

@pytest.mark.parametrize("moment,expected", [
    (ny(2026, 1, 14, 10, 15), utc(2026, 1, 14, 15, 15)),  # open: the moment itself
    (ny(2026, 1, 14, 8), utc(2026, 1, 14, 13)),
    (ny(2026, 1, 14, 6), utc(2026, 1, 14, 13)),           # early morning: same day 08:00 EST
    (ny(2026, 1, 14, 18), utc(2026, 1, 15, 13)),          # closing time: next morning
    (ny(2026, 1, 14, 20), utc(2026, 1, 15, 13)),          # evening
    (ny(2026, 1, 16, 17), utc(2026, 1, 19, 13)),          # Friday after close: Monday
    (ny(2026, 1, 17, 12), utc(2026, 1, 19, 13)),          # Saturday
    (ny(2026, 7, 18, 12), utc(2026, 7, 20, 12)),          # Saturday in summer: Monday 08:00 EDT
])
def test_next_opening(moment, expected):
    assert_utc(CENTER.next_opening(moment), expected)


def test_next_opening_skips_a_monday_holiday_after_the_weekend():
    assert_utc(WITH_HOLIDAYS.next_opening(ny(2026, 1, 16, 17, 30)), utc(2026, 1, 20, 13))
    assert_utc(WITH_HOLIDAYS.next_opening(ny(2026, 1, 19, 9)), utc(2026, 1, 20, 13))


# -- add_business_time -------------------------------------------------------------------------------

@pytest.mark.parametrize("start,amount,expected", [
    (ny(2026, 1, 14, 10), timedelta(hours=2), utc(2026, 1, 14, 17)),           # Wednesday 12:00
    (ny(2026, 1, 14, 17), timedelta(hours=2), utc(2026, 1, 15, 14)),           # overnight: Thu 09:00
    (ny(2026, 1, 14, 21), timedelta(hours=2), utc(2026, 1, 15, 15)),           # from the evening
    (ny(2026, 1, 14, 5), timedelta(minutes=30), utc(2026, 1, 14, 13, 30)),     # from early morning
    (ny(2026, 1, 16, 16), timedelta(hours=2), utc(2026, 1, 19, 14)),           # over the weekend
    (ny(2026, 1, 17, 11), timedelta(hours=1), utc(2026, 1, 19, 14)),           # from Saturday
    (ny(2026, 1, 14, 16), timedelta(hours=2), utc(2026, 1, 14, 23)),           # ends at closing time
    (ny(2026, 1, 16, 15), timedelta(hours=2), utc(2026, 1, 16, 22)),           # Friday's close
    (ny(2026, 1, 14, 8), timedelta(hours=10), utc(2026, 1, 14, 23)),           # a whole day
    (ny(2026, 1, 14, 10), timedelta(hours=10, minutes=1), utc(2026, 1, 15, 15, 1)),
    (ny(2026, 1, 12, 8), timedelta(hours=49), utc(2026, 1, 16, 22)),           # a week: Friday close
])
def test_add_business_time(start, amount, expected):
    assert_utc(CENTER.add_business_time(start, amount), expected)


def test_add_business_time_skips_holidays():
    assert_utc(WITH_HOLIDAYS.add_business_time(ny(2026, 1, 16, 16), timedelta(hours=2)), utc(2026, 1, 20, 14))
    assert_utc(WITH_HOLIDAYS.add_business_time(ny(2026, 11, 25, 17), timedelta(hours=2)),
               utc(2026, 11, 27, 14))


def test_add_zero_business_time_is_the_start():
    assert_utc(CENTER.add_business_time(ny(2026, 1, 17, 12), timedelta(0)), utc(2026, 1, 17, 17))


def test_add_negative_business_time_is_refused():
    with pytest.raises(ValueError):
        CENTER.add_business_time(ny(2026, 1, 14, 10), timedelta(hours=-1))


def test_thirty_days_of_business_time():
    # 720 h = 14 weeks of 49 h (Mon 2026-04-20 08:00 EDT) + 34 h: Mon, Tue, Wed and 4 h of Thursday.
    assert_utc(CENTER.add_business_time(ny(2026, 1, 12, 8), timedelta(days=30)), utc(2026, 4, 23, 16))


def test_add_business_time_agrees_with_business_time_between():
    rng = random.Random(20260308)
    for _ in range(300):
        start = utc(2026, 1, 1) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        amount = timedelta(minutes=rng.randrange(1, 60 * 60))
        end = WITH_HOLIDAYS.add_business_time(start, amount)
        assert WITH_HOLIDAYS.business_time_between(start, end) == amount
        assert WITH_HOLIDAYS.is_open(end - timedelta(seconds=1))


# -- add_business_days -------------------------------------------------------------------------------

@pytest.mark.parametrize("start,days,expected", [
    (ny(2026, 1, 14, 10), 1, utc(2026, 1, 15, 15)),       # Wednesday 10:00 -> Thursday 10:00
    (ny(2026, 1, 16, 19, 30), 1, utc(2026, 1, 20, 13)),   # Friday evening -> Monday 08:00 -> Tuesday 08:00
    (ny(2026, 1, 15, 17, 30), 1, utc(2026, 1, 19, 13)),   # Friday 17:30 is closed -> Monday 08:00
    (ny(2026, 1, 14, 10), 5, utc(2026, 1, 21, 15)),       # a week later
    (ny(2026, 1, 16, 10), 1, utc(2026, 1, 19, 15)),       # Friday -> Monday
    (ny(2026, 1, 14, 20), 0, utc(2026, 1, 15, 13)),       # zero days: the next opening
    (ny(2026, 1, 14, 10), 0, utc(2026, 1, 14, 15)),
])
def test_add_business_days(start, days, expected):
    assert_utc(CENTER.add_business_days(start, days), expected)


def test_add_business_days_skips_holidays():
    # Wednesday before Thanksgiving -> Friday; Friday before a Monday holiday -> Tuesday.
    assert_utc(WITH_HOLIDAYS.add_business_days(ny(2026, 11, 25, 10), 1), utc(2026, 11, 27, 15))
    assert_utc(WITH_HOLIDAYS.add_business_days(ny(2026, 1, 16, 10), 1), utc(2026, 1, 20, 15))
    assert_utc(WITH_HOLIDAYS.add_business_days(ny(2026, 1, 16, 19, 30), 1), utc(2026, 1, 21, 13))


def test_add_negative_business_days_is_refused():
    with pytest.raises(ValueError):
        CENTER.add_business_days(ny(2026, 1, 14, 10), -1)


# -- the US daylight-saving changes of 2026 ---------------------------------------------------------

def test_spring_forward_add_business_days():
    # Friday 20:00 EST -> next opening Monday 08:00 EDT -> Tuesday 2026-03-10 08:00 EDT = 12:00 UTC.
    assert_utc(CENTER.add_business_days(ny(2026, 3, 6, 20), 1), utc(2026, 3, 10, 12))
    # Friday 10:00 EST -> Monday 10:00 EDT keeps the wall clock, not the UTC time.
    assert_utc(CENTER.add_business_days(ny(2026, 3, 6, 10), 1), utc(2026, 3, 9, 14))


def test_spring_forward_business_time():
    assert_utc(CENTER.add_business_time(ny(2026, 3, 6, 16), timedelta(hours=2)), utc(2026, 3, 9, 13))
    assert_utc(CENTER.next_opening(ny(2026, 3, 6, 17)), utc(2026, 3, 9, 12))
    # Friday 12:00-17:00 EST and Monday 08:00-12:00 EDT.
    assert CENTER.business_time_between(ny(2026, 3, 6, 12), ny(2026, 3, 9, 12)) == timedelta(hours=9)


def test_fall_back():
    assert_utc(CENTER.add_business_time(ny(2026, 10, 30, 16, 30), timedelta(hours=1)),
               utc(2026, 11, 2, 13, 30))  # Monday 08:30 EST
    assert_utc(CENTER.add_business_days(ny(2026, 10, 29, 10), 2), utc(2026, 11, 2, 15))  # Mon 10:00 EST
    assert_utc(CENTER.next_opening(ny(2026, 10, 30, 18)), utc(2026, 11, 2, 13))
    assert CENTER.business_time_between(ny(2026, 10, 30, 12), ny(2026, 11, 2, 12)) == timedelta(hours=9)


SUNDAY_NIGHTS = BusinessCalendar(NY, {6: (time(0), time(6))})  # Sundays 00:00-06:00, across both changes


def test_sunday_hours_on_the_us_change_days_count_real_elapsed_time():
    # 2026-03-08: 00:00 EST (05:00 UTC) to 06:00 EDT (10:00 UTC) is 5 real hours.
    assert SUNDAY_NIGHTS.business_time_between(ny(2026, 3, 7), ny(2026, 3, 9)) == timedelta(hours=5)
    assert_utc(SUNDAY_NIGHTS.add_business_time(ny(2026, 3, 8), timedelta(hours=5)), utc(2026, 3, 8, 10))
    assert_utc(SUNDAY_NIGHTS.add_business_time(ny(2026, 3, 8), timedelta(hours=4)), utc(2026, 3, 8, 9))
    assert SUNDAY_NIGHTS.is_open(utc(2026, 3, 8, 7, 30))  # 03:30 EDT
    assert not SUNDAY_NIGHTS.is_open(utc(2026, 3, 8, 10))
    # 2026-11-01: 00:00 EDT (04:00 UTC) to 06:00 EST (11:00 UTC) is 7 real hours.
    assert SUNDAY_NIGHTS.business_time_between(ny(2026, 10, 31), ny(2026, 11, 2)) == timedelta(hours=7)
    assert_utc(SUNDAY_NIGHTS.add_business_time(ny(2026, 11, 1), timedelta(hours=7)), utc(2026, 11, 1, 11))
    # Both 01:30s of the repeated hour are open.
    assert SUNDAY_NIGHTS.is_open(utc(2026, 11, 1, 5, 30)) and SUNDAY_NIGHTS.is_open(utc(2026, 11, 1, 6, 30))


LONDON_MORNINGS = BusinessCalendar(LONDON, {weekday: (time(0), time(12)) for weekday in range(7)})


def test_london_change_days_count_real_elapsed_time():
    # 2026-03-29: clocks go from 01:00 GMT to 02:00 BST; 00:00 GMT to 12:00 BST = 00:00-11:00 UTC.
    sunday = datetime(2026, 3, 29, tzinfo=LONDON)
    assert LONDON_MORNINGS.business_time_between(sunday, sunday + timedelta(days=1)) == timedelta(hours=11)
    assert_utc(LONDON_MORNINGS.add_business_time(sunday, timedelta(hours=11)), utc(2026, 3, 29, 11))
    assert_utc(LONDON_MORNINGS.add_business_time(sunday, timedelta(hours=12)), utc(2026, 3, 30, 0))
    # 2026-10-25: clocks go from 02:00 BST back to 01:00 GMT; 00:00 BST to 12:00 GMT = 23:00-12:00 UTC.
    sunday = datetime(2026, 10, 25, tzinfo=LONDON)
    assert LONDON_MORNINGS.business_time_between(utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)) == \
        timedelta(hours=13)
    assert_utc(LONDON_MORNINGS.add_business_time(sunday, timedelta(hours=13)), utc(2026, 10, 25, 12))
    # Business days keep the wall clock: Saturday 09:00 GMT -> Sunday 09:00 BST (08:00 UTC).
    assert_utc(LONDON_MORNINGS.add_business_days(datetime(2026, 3, 28, 9, tzinfo=LONDON), 1),
               utc(2026, 3, 29, 8))


# -- business_time_between ---------------------------------------------------------------------------

@pytest.mark.parametrize("start,end,expected", [
    (ny(2026, 1, 14, 10), ny(2026, 1, 14, 12, 30), timedelta(hours=2, minutes=30)),
    (ny(2026, 1, 14, 10), ny(2026, 1, 15, 10), timedelta(hours=10)),
    (ny(2026, 1, 14, 19), ny(2026, 1, 15, 7), timedelta(0)),     # a night
    (ny(2026, 1, 16, 12), ny(2026, 1, 19, 12), timedelta(hours=9)),
    (ny(2026, 1, 12), ny(2026, 1, 19), timedelta(hours=49)),     # a whole week
    (ny(2026, 1, 17), ny(2026, 1, 18, 23), timedelta(0)),        # a weekend
    (ny(2026, 1, 15, 10), ny(2026, 1, 14, 10), timedelta(0)),    # end before start
    (ny(2026, 1, 14, 10), ny(2026, 1, 14, 10), timedelta(0)),
])
def test_business_time_between(start, end, expected):
    assert CENTER.business_time_between(start, end) == expected


def test_business_time_between_skips_holidays():
    assert WITH_HOLIDAYS.business_time_between(ny(2026, 1, 16, 12), ny(2026, 1, 20, 12)) == timedelta(hours=9)


# -- from_config ------------------------------------------------------------------------------------

def test_from_config_with_strings():
    calendar = BusinessCalendar.from_config({
        "TIMEZONE": "America/New_York",
        "BUSINESS_HOURS": {"0": ("08:00", "18:00"), "1": ("08:00", "18:00"), "2": ("08:00", "18:00"),
                           "3": ("08:00", "18:00"), 4: (time(8), "17:00")},
        "HOLIDAYS": ["2026-01-19", date(2026, 11, 26)],
    })
    assert calendar == WITH_HOLIDAYS
    assert calendar.zone == NY and calendar.hours[4] == (time(8), time(17))
    assert_utc(calendar.add_business_days(ny(2026, 1, 16, 19, 30), 1), utc(2026, 1, 21, 13))


def test_from_the_default_config():
    config = {key: getattr(Config, key) for key in ("TIMEZONE", "BUSINESS_HOURS", "HOLIDAYS")}
    assert BusinessCalendar.from_config(config) == CENTER


@pytest.mark.parametrize("change", [
    {"TIMEZONE": "Mars/Olympus_Mons"},
    {"BUSINESS_HOURS": {"0": ("8am", "6pm")}},
    {"BUSINESS_HOURS": {"monday": ("08:00", "18:00")}},
    {"BUSINESS_HOURS": {7: ("08:00", "18:00")}},
    {"BUSINESS_HOURS": {0: ("18:00", "08:00")}},
    {"HOLIDAYS": ["19/01/2026"]},
])
def test_from_config_rejects_bad_values(change):
    config = {"TIMEZONE": "America/New_York", "BUSINESS_HOURS": {0: ("08:00", "18:00")}, "HOLIDAYS": []}
    with pytest.raises(ValueError):
        BusinessCalendar.from_config({**config, **change})


# -- invalid input -----------------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 14, 10)


@pytest.mark.parametrize("call", [
    lambda: CENTER.is_open(NAIVE),
    lambda: CENTER.next_opening(NAIVE),
    lambda: CENTER.add_business_time(NAIVE, timedelta(hours=1)),
    lambda: CENTER.add_business_days(NAIVE, 1),
    lambda: CENTER.business_time_between(NAIVE, ny(2026, 1, 15, 10)),
    lambda: CENTER.business_time_between(ny(2026, 1, 13, 10), NAIVE),
])
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_a_calendar_with_no_hours_is_refused():
    with pytest.raises(ValueError):
        BusinessCalendar(NY, {})
    with pytest.raises(ValueError):
        BusinessCalendar.from_config({"TIMEZONE": "America/New_York", "BUSINESS_HOURS": {}, "HOLIDAYS": []})


@pytest.mark.parametrize("arrived, due", [
    (datetime(2026, 11, 16, 10, 0), datetime(2026, 11, 17, 8, 0)),   # Monday morning → Tuesday opening
    (datetime(2026, 11, 20, 18, 30), datetime(2026, 11, 23, 8, 0)),  # Friday evening → Monday morning
    (datetime(2026, 11, 21, 12, 0), datetime(2026, 11, 23, 8, 0)),   # Saturday → Monday
    (datetime(2026, 11, 25, 9, 0), datetime(2026, 11, 27, 8, 0)),    # the day before a holiday
])
def test_next_business_morning(arrived, due):
    cal = BusinessCalendar(NY, CENTER_HOURS, frozenset({date(2026, 11, 26)}))
    assert cal.next_business_morning(arrived.replace(tzinfo=NY)) == due.replace(tzinfo=NY)
