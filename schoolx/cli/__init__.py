"""The ``schoolx`` command."""

from schoolx.cli.main import main

__all__ = ["main"]
