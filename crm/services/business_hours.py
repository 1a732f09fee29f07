"""Business-hour arithmetic in the center's time zone, correct across daylight-saving changes."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)


def _parse_time(value: str | time) -> time:
    """A naive wall-clock time from ``"HH:MM"`` or a ``datetime.time``."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"invalid business-hours time: {value!r}")


def _parse_date(value: str | date) -> date:
    """A date from an ISO string or a ``datetime.date`` (a datetime keeps only its date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"invalid holiday date: {value!r}") from None


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; naive datetimes are rejected."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timezone-aware datetime required, got naive {moment!r}")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday plus holidays, as local wall-clock times in ``zone``."""

    zone: ZoneInfo
    hours: Mapping[int, tuple[time, time]]   # weekday (0 = Monday) -> (opens, closes); absent = closed
    holidays: frozenset[date] = frozenset()  # local dates on which the center is closed

    def __post_init__(self) -> None:
        hours: dict[int, tuple[time, time]] = {}
        for weekday, (opens, closes) in self.hours.items():
            if not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be an int from 0 (Monday) to 6, got {weekday!r}")
            if opens.tzinfo is not None or closes.tzinfo is not None:
                raise ValueError("opening and closing times must be naive wall-clock times")
            if not opens < closes:
                raise ValueError(f"weekday {weekday}: opening {opens} is not before closing {closes}")
            hours[weekday] = (opens, closes)
        if not hours:
            raise ValueError("the calendar has no open hours")
        object.__setattr__(self, "hours", MappingProxyType(hours))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @classmethod
    def from_config(cls, config: Mapping) -> "BusinessCalendar":
        """From a Flask config: TIMEZONE (IANA name), BUSINESS_HOURS ({weekday: ("08:00", "18:00")} — keys
        may be ints or strings of ints, values "HH:MM" strings or datetime.time), HOLIDAYS (list of ISO date
        strings or date objects)."""
        try:
            zone = ZoneInfo(config["TIMEZONE"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone: {config['TIMEZONE']!r}") from exc
        hours: dict[int, tuple[time, time]] = {}
        for key, (opens, closes) in (config.get("BUSINESS_HOURS") or {}).items():
            try:
                weekday = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"invalid weekday key: {key!r}") from None
            hours[weekday] = (_parse_time(opens), _parse_time(closes))
        holidays = frozenset(_parse_date(day) for day in config.get("HOLIDAYS") or ())
        return cls(zone=zone, hours=hours, holidays=holidays)

    # -- days and their open intervals -------------------------------------------------------------

    def is_business_day(self, day: date) -> bool:
        """Whether the center opens at all on local date ``day``."""
        return day.weekday() in self.hours and day not in self.holidays

    def _interval(self, day: date) -> tuple[datetime, datetime] | None:
        """The open interval [opens, closes) of local date ``day`` in UTC, or None if closed that day."""
        if not self.is_business_day(day):
            return None
        opens, closes = self.hours[day.weekday()]
        start = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
        end = datetime.combine(day, closes, tzinfo=self.zone).astimezone(UTC)
        return (start, end) if start < end else None  # both ends inside a DST gap: nothing open

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC) of the local date of ``moment`` and every later date, in order.

        Stops with ValueError if no day opens within a span longer than any run of closed days can last,
        so callers can never loop forever."""
        day = moment.astimezone(self.zone).date()
        closed_run, limit = 0, 7 * (len(self.holidays) + 2)
        while True:
            interval = self._interval(day)
            if interval is None:
                closed_run += 1
                if closed_run > limit:
                    raise ValueError("the calendar never opens")
            else:
                closed_run = 0
                yield interval
            day += _ONE_DAY

    # -- public API ------------------------------------------------------------------------------

    def is_open(self, moment: datetime) -> bool:
        """Whether the center is open at ``moment`` (opening time included, closing time excluded)."""
        moment = _utc(moment)
        interval = self._interval(moment.astimezone(self.zone).date())
        return interval is not None and interval[0] <= moment < interval[1]

    def next_business_morning(self, moment: datetime) -> datetime:
        """When the center opens on the first business day after ``moment``'s local date (UTC):
        Monday 10:00 → Tuesday 08:00; Friday 18:30 → Monday 08:00."""
        day = _utc(moment).astimezone(self.zone).date() + _ONE_DAY
        start, _end = next(self._intervals_from(datetime.combine(day, time(12), tzinfo=self.zone)))
        return start

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself if the center is open then, else the next time it opens (UTC)."""
        moment = _utc(moment)
        for start, end in self._intervals_from(moment):
            if moment < end:
                return max(start, moment)
        raise AssertionError("unreachable")  # pragma: no cover - _intervals_from never ends on its own

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant (UTC) when ``amount`` of open time has elapsed after ``start``; time outside business
        hours does not count. If the amount runs out exactly at a closing time, return that closing time."""
        start = _utc(start)
        if amount < _ZERO:
            raise ValueError("amount must not be negative")
        if not amount:
            return start
        remaining = amount
        for opens, closes in self._intervals_from(start):
            opens = max(opens, start)
            if closes <= opens:
                continue
            available = closes - opens
            if remaining <= available:
                return opens + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover - _intervals_from never ends on its own

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """``days`` business days after ``start`` (UTC): a start outside business hours counts from the next
        opening; the result is the same local clock time ``days`` open days later, and if that local time is
        outside that day's hours (e.g. a Friday that closes at 17:00), it is the next opening after it.

        Examples with Mon–Thu 08:00–18:00, Fri 08:00–17:00: Wednesday 10:00 + 1 -> Thursday 10:00; Friday
        19:30 + 1 -> next opening Monday 08:00, plus one business day -> Tuesday 08:00; Thursday 17:30 + 1 ->
        Friday 17:30 is after Friday's close -> Monday 08:00; the day before a holiday skips the holiday."""
        if days < 0:
            raise ValueError("days must not be negative")
        local = self.next_opening(start).astimezone(self.zone)
        day, wall_clock = local.date(), local.time()
        for _ in range(days):
            day += _ONE_DAY
            while not self.is_business_day(day):  # ends: the calendar has open weekdays
                day += _ONE_DAY
        return self.next_opening(datetime.combine(day, wall_clock, tzinfo=self.zone))

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time elapsed between two instants (zero if end <= start)."""
        start, end = _utc(start), _utc(end)
        total = _ZERO
        if end <= start:
            return total
        day, last = start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        while day <= last:
            interval = self._interval(day)
            if interval is not None:
                overlap = min(interval[1], end) - max(interval[0], start)
                if overlap > _ZERO:
                    total += overlap
            day += _ONE_DAY
        return total
