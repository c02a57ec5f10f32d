"""The ``minemap`` command: a thin layer over the library, one module per group."""
