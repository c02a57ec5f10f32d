"""``minemap export KIND --db URL --format FORMAT --out FILE``."""

from __future__ import annotations

from pathlib import Path

import click

from minemap.cli.options import db_option, out_file_option
from minemap.errors import PermissionDeniedError
from minemap.io.export import EXPORT_FORMATS, PersonalPolicy, export_records
from minemap.records.schema import get_kind
from minemap.store.base import Store


def _personal_policy(store: Store, user: str) -> PersonalPolicy:
    """Who may see victims' personal fields: the web layer's roles decide, here as there."""
    from minemap.api.security import Principal

    record = store.get_user(user)
    principal = Principal(str(record["name"]), str(record["role"]), record.get("organisation_id"))
    if not (principal.may("personal") or principal.role == "editor"):
        msg = f"user {user!r} (role {principal.role}) may not see personal data"
        raise PermissionDeniedError(msg)
    return principal.may_see_personal


@click.command("export")
@click.argument("kind", metavar="KIND")
@db_option
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True, help="File format."
)
@out_file_option
@click.option(
    "--include-personal",
    is_flag=True,
    help="Export victims' names and contacts; needs --user with a role allowed to see them.",
)
@click.option("--user", help="The user asking (checked for --include-personal).")
def export_command(  # noqa: PLR0917 (click passes every option)
    kind: str, db_url: str, fmt: str, out_file: Path, include_personal: bool, user: str | None
) -> None:
    """Export every record of KIND to a GeoPackage (styled for QGIS), GeoJSON, KML, CSV,
    XLSX or Shapefile. Links are written as the linked records' refs.
    """
    from minemap.store import open_store

    name = get_kind(kind).name
    with open_store(db_url) as store:
        personal: PersonalPolicy | bool = False
        if include_personal:
            if not user:
                msg = "--include-personal needs --user NAME (a user allowed to see personal data)"
                raise PermissionDeniedError(msg)
            personal = _personal_policy(store, user)
        report = export_records(store, name, fmt, out_file, personal=personal)
    for line in report.lines():
        click.echo(line)
