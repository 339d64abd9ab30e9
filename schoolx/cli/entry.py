"""The ``schoolx`` console script: the command line with garbage collection tuned for
start-up (see ``schoolx.cli.startup``)."""

from __future__ import annotations


def main() -> None:
    from schoolx.cli import startup

    startup.starting()
    try:
        from schoolx.cli.main import app

        app()
    finally:
        startup.exiting()
