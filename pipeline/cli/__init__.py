"""The ``schoolx`` command."""

from pipeline.cli.main import main

__all__ = ["main"]
