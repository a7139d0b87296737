"""Cron expressions for ``@app.crontab``: five fields, the next time they match.

Fields are minute, hour, day of month, month, day of week (0 or 7 = Sunday); each is
``*``, a number, a name (``jan``, ``mon``), a range ``a-b``, a step ``*/n`` or ``a-b/n``,
or a comma-separated list of those. As in cron, when both day fields are restricted a day
matching either one matches. Example::

    schedule = CronSchedule.parse("*/15 9-17 * * mon-fri")
    schedule.next_after(datetime(2024, 1, 5, 9, 7))     # datetime(2024, 1, 5, 9, 15)
"""

from __future__ import annotations

import dataclasses
import datetime

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _parse_field(text: str, low: int, high: int, names: list[str], base: int) -> frozenset[int]:
    values: set[int] = set()

    def number(part: str) -> int:
        lowered = part.lower()
        if lowered in names:
            return names.index(lowered) + base
        value = int(part)
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range {low}-{high}")
        return value

    for item in text.split(","):
        body, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in {item!r}")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = number(first), number(last)
        else:
            start = number(body)
            end = high if step_text else start
        if start > end:
            raise ValueError(f"empty range {item!r}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclasses.dataclass(frozen=True)
class CronSchedule:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Monday ... 6 = Sunday (datetime.weekday())
    any_day: bool
    any_weekday: bool
    #: the time zone the expression is read in (None: the machine's local time)
    timezone: datetime.tzinfo | None = None

    def with_timezone(self, timezone: datetime.tzinfo) -> CronSchedule:
        return dataclasses.replace(self, timezone=timezone)

    def seconds_until_next(self, now: float) -> float:
        """Seconds from the POSIX time ``now`` to the next matching minute."""
        moment = datetime.datetime.fromtimestamp(now, self.timezone)
        following = self.next_after(moment)
        return max(0.0, following.timestamp() - now)

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(f"a cron expression has 5 fields, {expression!r} has {len(fields)}")
        try:
            cron_weekdays = _parse_field(fields[4], 0, 7, _DAYS, 0)
            return cls(
                expression,
                _parse_field(fields[0], 0, 59, [], 0),
                _parse_field(fields[1], 0, 23, [], 0),
                _parse_field(fields[2], 1, 31, [], 1),
                _parse_field(fields[3], 1, 12, _MONTHS, 1),
                frozenset((day - 1) % 7 for day in cron_weekdays),
                fields[2] == "*",
                fields[4] == "*",
            )
        except ValueError as exc:
            raise ValueError(f"bad cron expression {expression!r}: {exc}") from None

    def _day_matches(self, moment: datetime.datetime) -> bool:
        if moment.month not in self.months:
            return False
        day_ok = moment.day in self.days
        weekday_ok = moment.weekday() in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first matching minute strictly after ``moment`` (same time zone)."""
        candidate = moment.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        for _ in range(366 * 5):
            if not self._day_matches(candidate):
                candidate = (candidate + datetime.timedelta(days=1)).replace(hour=0, minute=0)
                continue
            for hour in range(candidate.hour, 24):
                if hour not in self.hours:
                    continue
                first_minute = candidate.minute if hour == candidate.hour else 0
                for minute in range(first_minute, 60):
                    if minute in self.minutes:
                        return candidate.replace(hour=hour, minute=minute)
            candidate = (candidate + datetime.timedelta(days=1)).replace(hour=0, minute=0)
        raise ValueError(f"cron expression {self.expression!r} never matches")
