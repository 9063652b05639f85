"""kgan's cache folder, shared by everything kgan caches (decoded image folders, reference classifiers, and the
programs JAX compiles: cli.backend.cache_compiled_programs)."""

import os
from pathlib import Path


def cache_root():
    """`$KGAN_CACHE_DIR`, else `~/.cache/kgan`."""
    return Path(os.environ.get("KGAN_CACHE_DIR") or Path.home() / ".cache" / "kgan").expanduser()
