"""Settings: the few values minemap needs, each overridable by environment.

=====================  ==========================  ===============================
setting                environment variable        default
=====================  ==========================  ===============================
``crs``                ``MINEMAP_CRS``             ``EPSG:32638`` (UTM zone 38N)
``cell_size``          ``MINEMAP_CELL_SIZE``       ``50`` metres
``data_dir``           ``MINEMAP_DATA_DIR``        ``~/.local/share/minemap``
``catalogue``          ``MINEMAP_CATALOGUE``       the shipped asset catalogue
``seed``               ``MINEMAP_SEED``            ``42``
``user``               ``MINEMAP_USER``            the login name, for audit
=====================  ==========================  ===============================

Read them with :func:`get_settings`; tests override with ``monkeypatch.setenv``
and ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from minemap.errors import ConfigError

PACKAGE_DATA = resources.files("minemap") / "data"


@dataclass(frozen=True)
class Settings:
    crs: str
    cell_size: float
    data_dir: Path
    catalogue: Path
    seed: int
    user: str


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        msg = f"environment variable {name}={raw!r} is not a number"
        raise ConfigError(msg) from None
    if value <= 0:
        msg = f"environment variable {name}={raw!r} must be positive"
        raise ConfigError(msg)
    return value


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        msg = f"environment variable {name}={raw!r} is not an integer"
        raise ConfigError(msg) from None


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    data_dir = Path(
        os.environ.get("MINEMAP_DATA_DIR", Path.home() / ".local" / "share" / "minemap")
    )
    catalogue = Path(
        os.environ.get("MINEMAP_CATALOGUE", str(PACKAGE_DATA / "assets_catalogue.toml"))
    )
    return Settings(
        crs=os.environ.get("MINEMAP_CRS", "EPSG:32638"),
        cell_size=_env_float("MINEMAP_CELL_SIZE", 50.0),
        data_dir=data_dir,
        catalogue=catalogue,
        seed=_env_int("MINEMAP_SEED", 42),
        user=os.environ.get("MINEMAP_USER", _default_user()),
    )
