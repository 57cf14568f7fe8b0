"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from stratus.clock import VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()
