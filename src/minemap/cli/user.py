"""``minemap user add``: a user of the web application, with a role and an organisation."""

from __future__ import annotations

import click

from minemap.cli.options import db_option
from minemap.errors import ConfigError, NotFoundError
from minemap.records.schema import ROLES


@click.group("user")
def user() -> None:
    """Users of the web application (roles: viewer, editor, analyst, approver, admin)."""


def resolve_organisation(store: object, text: str) -> int:
    """An organisation's id from its ref (``ORG-...``), its id, or its exact name."""
    from minemap.store import Store

    assert isinstance(store, Store)
    frame = store.read("organisations")
    for column in ("ref", "name"):
        hit = frame[frame[column].astype(str) == text] if column in frame else frame.iloc[0:0]
        if len(hit) == 1:
            return int(hit["id"].iloc[0])
        if len(hit) > 1:
            msg = f"--organisation {text!r} matches {len(hit)} organisations by {column}"
            raise ConfigError(msg)
    if text.isdigit() and (frame["id"] == int(text)).any():
        return int(text)
    names = (
        ", ".join(f"{r} ({n})" for r, n in zip(frame["ref"], frame["name"], strict=True)) or "none"
    )
    msg = f"--organisation {text!r} is neither a ref nor a name of an organisation; known: {names}"
    raise NotFoundError(msg)


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option(
    "--password",
    required=True,
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters; stored only as an argon2 hash.",
)
@click.option("--organisation", "organisation", default=None, metavar="ORG", help="Ref or name.")
@db_option
def add(name: str, role: str, password: str, organisation: str | None, db_url: str) -> None:
    """Add user NAME to the store at --db."""
    from minemap.api.security import hash_password
    from minemap.store import open_store

    password_hash = hash_password(password)
    with open_store(db_url) as store:
        org_id = resolve_organisation(store, organisation) if organisation else None
        try:
            store.get_user(name)
        except NotFoundError:
            pass
        else:
            msg = f"user {name!r} exists already in {db_url}"
            raise ConfigError(msg)
        store.add_user(name, role=role, password_hash=password_hash, organisation_id=org_id)
    where = f", organisation {organisation}" if organisation else ""
    click.echo(f"added user {name} (role {role}{where})")
