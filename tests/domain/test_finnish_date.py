"""Dates shown to people and sent to Procountor are Finnish calendar days."""

from datetime import UTC, date, datetime

import pytest

from spotilla_procountor.domain.invoicing import finnish_date


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2025, 3, 10, 8, 0, tzinfo=UTC), date(2025, 3, 10)),
        (datetime(2025, 3, 9, 21, 59, tzinfo=UTC), date(2025, 3, 9)),  # 23:59 in winter time (UTC+2)
        (datetime(2025, 3, 9, 22, 0, tzinfo=UTC), date(2025, 3, 10)),
        (datetime(2025, 3, 9, 23, 30, tzinfo=UTC), date(2025, 3, 10)),
        (datetime(2025, 6, 30, 20, 59, tzinfo=UTC), date(2025, 6, 30)),  # 23:59 in summer time (UTC+3)
        (datetime(2025, 6, 30, 21, 0, tzinfo=UTC), date(2025, 7, 1)),
        (datetime(2025, 12, 31, 22, 0, tzinfo=UTC), date(2026, 1, 1)),
        (datetime(2025, 3, 30, 0, 30, tzinfo=UTC), date(2025, 3, 30)),  # the night clocks go forward
        (datetime(2025, 10, 26, 21, 30, tzinfo=UTC), date(2025, 10, 26)),  # the day clocks go back: 23:30 (UTC+2)
    ],
)
def test_a_utc_moment_falls_on_its_helsinki_day(moment: datetime, day: date) -> None:
    assert finnish_date(moment) == day


def test_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        finnish_date(datetime(2025, 3, 10, 8, 0))
