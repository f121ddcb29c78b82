"""Command line: `spotilla-procountor COMMAND`."""

import typer

app = typer.Typer(no_args_is_help=True, help="Spotilla ↔ Procountor integration.")


@app.callback()
def _root() -> None:
    """Turns completed Spotilla work orders into Procountor sales invoices."""


def main() -> None:
    app()
