"""Entry point of the ``minemap`` command.

Each command group lives in its own module and is registered in
:data:`COMMANDS`. The group callback sets logging from ``-v``/``-q``. A
:class:`~minemap.errors.MinemapError` becomes one line on stderr and exit 1
(the traceback only with ``-v``); click's usage errors exit 2.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from minemap import __version__
from minemap.errors import MinemapError

# (module under minemap.cli, attribute): every command of the contract in DESIGN.md.
COMMANDS: list[tuple[str, str]] = [
    ("db", "db"),
    ("summary", "summary"),
    ("report", "report"),
    ("user", "user"),
    ("serve", "serve"),
    ("importer", "import_command"),
    ("export", "export_command"),
    ("records", "records"),
    ("hazard_map", "hazard_map"),
    ("model", "model"),
    ("plan", "plan"),
    ("scenario", "scenario"),
    ("demo", "demo"),
]

log = logging.getLogger("minemap")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="minemap")
@click.option("-v", "--verbose", count=True, help="More output; -v also shows tracebacks.")
@click.option("-q", "--quiet", count=True, help="Less output.")
def cli(verbose: int, quiet: int) -> None:
    """minemap: national mine action records, hazard maps, plans and reports."""
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(
        level=max(logging.DEBUG, min(level, logging.CRITICAL)),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


for _module, _attr in COMMANDS:
    cli.add_command(getattr(importlib.import_module(f"minemap.cli.{_module}"), _attr))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 user error, 2 usage)."""
    args = sys.argv[1:] if argv is None else argv
    verbose = any(a == "--verbose" or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in args)
    try:
        cli.main(args=args, prog_name="minemap", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except MinemapError as exc:
        if verbose:
            log.exception("minemap error")
        click.echo(f"Error: {exc}", err=True)
        return 1
    except OSError as exc:
        # an unwritable folder or a full disk is the user's to fix, not a bug
        if verbose:
            log.exception("system error")
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        click.echo(f"Error: {exc.strerror or exc}{where}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
