"""``minemap serve``: the web map, dashboards and API with uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from minemap.cli.options import db_option


@click.command("serve")
@db_option
@click.option(
    "--map",
    "map_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder written by 'minemap hazard-map build' (risk tiles, explanations).",
)
@click.option(
    "--plan",
    "plan_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder written by 'minemap plan ...' (priorities, planned dates, forecast).",
)
@click.option(
    "--basemap",
    "basemap",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Optional PMTiles basemap drawn under minemap's own layers.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (set MINEMAP_SECRET so tokens hold across them).",
)
def serve(
    *,
    db_url: str,
    map_dir: Path | None,
    plan_dir: Path | None,
    basemap: Path | None,
    host: str,
    port: int,
    workers: int,
) -> None:
    """Serve the web map, dashboards and API (OpenAPI at /docs)."""
    import os
    import secrets

    import uvicorn

    from minemap.api import create_app

    if workers > 1:
        # each worker builds its own app from the environment; one secret for all
        os.environ.setdefault("MINEMAP_SECRET", secrets.token_urlsafe(32))
        os.environ["MINEMAP_SERVE_DB"] = db_url
        for key, value in (("MAP", map_dir), ("PLAN", plan_dir), ("BASEMAP", basemap)):
            if value is not None:
                os.environ[f"MINEMAP_SERVE_{key}"] = str(value.resolve())
        click.echo(f"minemap: serving {db_url} on http://{host}:{port}/ with {workers} workers")
        uvicorn.run(
            "minemap.api.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
        return
    app = create_app(db_url, map_dir, plan_dir=plan_dir, basemap_pmtiles=basemap, warm=True)
    click.echo(f"minemap: serving {db_url} on http://{host}:{port}/ (API docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
