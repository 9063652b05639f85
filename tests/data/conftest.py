"""Every data test caches decoded image folders in its own temporary folder, never in ~/.cache/kgan."""

import pytest


@pytest.fixture(autouse=True)
def kgan_cache_dir(monkeypatch, tmp_path):
    folder = tmp_path / "kgan-cache"
    monkeypatch.setenv("KGAN_CACHE_DIR", str(folder))
    return folder
