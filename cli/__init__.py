"""The `kgan` command line: a thin Click layer over the `kgan` library."""
