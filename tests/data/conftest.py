"""Every data test runs with an empty cache and no system folders."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets an empty cache and no system folders, so nothing real is found or written."""
    from convlens.data import catalog, sources

    cache = tmp_path / "cache"
    monkeypatch.setenv("CONVLENS_DATA", str(cache))
    monkeypatch.setattr(sources, "SYSTEM_DIRS", ())
    monkeypatch.setattr(catalog, "_CACHE", {})
    return cache
