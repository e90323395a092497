"""Brazil's official time, in which boletos are dated, remessas cut and notices scheduled."""

from __future__ import annotations

import datetime as dt

# UTC-3 all year: Brazil has kept no daylight saving time since 2019. A fixed offset, so no
# time zone database is needed where the services run.
BRASILIA = dt.timezone(dt.timedelta(hours=-3))


def local_day(instant: dt.datetime) -> dt.date:
    """The calendar day in Brasília at `instant`; a naive one is taken as UTC (SQLite gives
    back naive times, stored as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(BRASILIA).date()


def today() -> dt.date:
    return local_day(dt.datetime.now(dt.UTC))
