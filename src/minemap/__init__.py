"""minemap: an open, offline-capable mine action system.

The package follows the flow of ``DESIGN.md``: ``records`` and ``store`` keep
the national records, ``grid``, ``features`` and ``risk`` turn them into hazard
maps, ``plan`` turns maps into land-release plans, and ``report``, ``api`` and
``io`` hand the results to people. ``scenario`` generates a synthetic world
with a hidden truth for demos, training and benchmarks.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

from minemap.errors import MinemapError  # noqa: E402

__all__ = ["MinemapError", "__version__"]
