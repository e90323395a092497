"""Brazil's official time, in which boletos are dated and remessas are cut."""

from __future__ import annotations

import datetime as dt

# UTC-3 all year: Brazil has kept no daylight saving time since 2019. A fixed offset, so no
# time zone database is needed where the service runs.
BRASILIA = dt.timezone(dt.timedelta(hours=-3))
