"""The packed GROUP BY key of SQLite (period, confidence bin, action in one integer) reads
back as the separate keys other databases group on, at the edges of days, weeks and bins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tracker.analysis import sql
from tracker.models import UTCDateTime


@pytest.mark.parametrize(
    ("at", "confidence", "action", "weekly", "expected"),
    [
        (datetime(2026, 3, 1, 23, 59, 59, 999000, tzinfo=UTC), 0.3, "BUY", False,
         ("2026-03-01", 3, "BUY")),
        (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), 1.0, "SELL", False, ("2026-03-02", 9, "SELL")),
        (datetime(2026, 3, 1, 12, 0, tzinfo=UTC), 0.0, "HOLD", True, ("2026-02-23", 0, "HOLD")),
        (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), 0.7, "BUY", True, ("2026-03-02", 7, "BUY")),
        (datetime(1999, 12, 31, 23, 0, tzinfo=UTC), None, None, False, ("1999-12-31", None, None)),
    ],
)
def test_packed_keys_read_back(at, confidence, action, weekly, expected) -> None:
    engine = sa.create_engine("sqlite://")
    ts = sa.bindparam("ts", at, type_=UTCDateTime())
    conf = sa.bindparam("conf", confidence, type_=sa.Float())
    act = sa.bindparam("act", action, type_=sa.String())
    keys = sql.packed_keys(ts, conf, act, "sqlite", weekly)
    assert len(keys) == 1  # one integer on SQLite
    with engine.connect() as conn:
        row = conn.execute(sa.select(*keys)).one()
    assert sql.key_unpacker("sqlite")(row) == expected
