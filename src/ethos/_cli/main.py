"""``ethos``: the root Typer app. It only wires in one module per noun and maps errors to exits.

Exit codes: 0 ok, 1 a gate failed, 2 usage or input error, 3 internal error, 130 interrupted.
"""

from __future__ import annotations

import os
import sys

import typer

from ethos import __version__
from ethos._cli import audit as audit_cmd
from ethos._cli import config as config_cmd
from ethos._cli import dashboard as dashboard_cmd
from ethos._cli import dp as dp_cmd
from ethos._cli import fairness as fairness_cmd
from ethos._cli import gate as gate_cmd
from ethos._cli import gateway as gateway_cmd
from ethos._cli import models as models_cmd
from ethos._cli import optout as optout_cmd
from ethos._cli import pii as pii_cmd
from ethos._cli import report as report_cmd
from ethos._cli import runs as runs_cmd
from ethos._cli import table as table_cmd
from ethos._cli._output import err
from ethos.errors import EthosError

app = typer.Typer(
    name="ethos",
    help="Audit, protect, serve and document local LLMs responsibly.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(models_cmd.app, name="models")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(config_cmd.app, name="config")
app.add_typer(dp_cmd.app, name="dp")
app.add_typer(optout_cmd.app, name="optout")
app.add_typer(table_cmd.app, name="table")
app.add_typer(fairness_cmd.app, name="fairness")
app.add_typer(pii_cmd.app, name="pii")
app.add_typer(report_cmd.app, name="report")
app.add_typer(gateway_cmd.app, name="gateway")
app.command("gate")(gate_cmd.gate)
app.command("dashboard")(dashboard_cmd.dashboard)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ethos {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Audit, protect, serve and document local LLMs responsibly."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; library errors become one line on stderr and an exit code."""
    debug = os.environ.get("ETHOS_DEBUG", "") not in ("", "0")
    try:
        app(args=argv, prog_name="ethos")
    except EthosError as exc:
        if debug:
            raise
        err(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        err(f"internal error: {type(exc).__name__}: {exc} (set ETHOS_DEBUG=1 to see the traceback)")
        sys.exit(3)


if __name__ == "__main__":
    main()
