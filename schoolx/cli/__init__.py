"""The ``schoolx`` command: ``schoolx.cli.entry.main`` runs it, ``schoolx.cli.main.app`` is it."""
