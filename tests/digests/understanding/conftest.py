from __future__ import annotations

import pytest

from digests.understanding.analyzer import Analyzer, get_analyzer


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return get_analyzer("moscow")
