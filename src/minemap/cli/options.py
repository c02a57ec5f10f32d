"""Options shared by several commands, as reusable decorators (as in ``rio``)."""

from __future__ import annotations

from pathlib import Path

import click

db_option = click.option(
    "--db",
    "db_url",
    required=True,
    metavar="URL",
    envvar="MINEMAP_DB",
    help="The store: a .gpkg path (embedded) or postgresql://... (server). Env: MINEMAP_DB.",
)

out_dir_option = click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into (created when missing).",
)

out_file_option = click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write.",
)

map_option = click.option(
    "--map",
    "map_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder written by 'minemap hazard-map build'.",
)

cell_option = click.option(
    "--cell",
    "cell_size",
    type=click.FloatRange(min=1.0, min_open=False),
    default=None,
    help="Cell size in metres (default from settings, 50).",
)

seed_option = click.option(
    "--seed", type=int, default=None, help="Random seed (default from settings)."
)
