"""Cron expressions for ``@app.crontab``, read by croniter as Faust reads them.

Faust (``faust/utils/cron.py``) asks croniter for the next time an expression matches, so
every form croniter takes works: five fields (minute, hour, day of month, month, day of
week), a sixth for seconds, names (``jan``, ``mon``), ranges, steps, lists, and the
macros ``@yearly``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``, ``@hourly``.
An expression is read in a time zone: the crontab's ``timezone=``, else the App's
``timezone`` setting (UTC unless set), as in Faust. Example::

    schedule = CronSchedule.parse("*/15 9-17 * * mon-fri")
    schedule.next_after(datetime(2024, 1, 5, 9, 7))     # datetime(2024, 1, 5, 9, 15)
    CronSchedule.parse("@daily").with_timezone(ZoneInfo("Europe/Paris"))
"""

from __future__ import annotations

import dataclasses
import datetime

# croniter (and dateutil under it: ~2.4 MB of a worker's memory) is imported by the
# methods below, so that only an app with a crontab pays for it


@dataclasses.dataclass(frozen=True)
class CronSchedule:
    expression: str
    #: the time zone the expression is read in (None: the App's ``timezone`` setting,
    #: given by :meth:`with_timezone` when the crontab is registered)
    timezone: datetime.tzinfo | None = None

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """The schedule of ``expression``; ValueError (one line) when croniter refuses it."""
        from croniter import CroniterError, croniter

        try:
            valid = croniter.is_valid(expression)
        except (CroniterError, ValueError, TypeError, KeyError, AttributeError):
            valid = False
        if not valid:
            raise ValueError(
                f"bad cron expression {expression!r} (five fields, 'minute hour day month "
                "weekday', a sixth for seconds, or a macro such as @daily or @hourly)"
            )
        return cls(expression)

    def with_timezone(self, timezone: datetime.tzinfo) -> CronSchedule:
        return dataclasses.replace(self, timezone=timezone)

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first matching time strictly after ``moment`` (in ``moment``'s zone)."""
        from croniter import croniter

        following: datetime.datetime = croniter(self.expression, moment).get_next(datetime.datetime)
        return following

    def seconds_until_next(self, now: float) -> float:
        """Seconds from the POSIX time ``now`` to the next matching time."""
        zone = self.timezone or datetime.UTC
        moment = datetime.datetime.fromtimestamp(now, zone)
        return max(0.0, self.next_after(moment).timestamp() - now)
