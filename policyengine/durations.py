"""Durations as rules write them ({"value": 6, "unit": "MONTHS"}) applied to points in time."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Unit = Literal["DAYS", "WEEKS", "MONTHS", "YEARS"]


class DurationArg(BaseModel):
    """A duration argument of a selector or notifier."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: int = Field(ge=0, le=100_000)
    unit: Unit


def before(moment: datetime, value: int, unit: str) -> datetime:
    """``moment`` minus a duration; months and years are calendar ones (the day clamped).

    A duration longer than the calendar reaches back gives the earliest representable time.
    """
    earliest = datetime.min.replace(tzinfo=moment.tzinfo)
    try:
        if unit == "DAYS":
            return moment - timedelta(days=value)
        if unit == "WEEKS":
            return moment - timedelta(weeks=value)
    except OverflowError:
        return earliest
    months = value * (12 if unit == "YEARS" else 1)
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    if year < 1:
        return earliest
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
