"""Fixtures of the tracker tests; helpers live in tracker_support.py (this folder is put on
sys.path so tests import it by name)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def tracker(database_url: str) -> Iterator[Any]:
    from tracker import DecisionTracker

    instance = DecisionTracker(database_url)
    yield instance
    instance.close()
