"""The ``crm`` command line (Typer). The entry point is ``worker.cli.main:main``; the
``crm`` executable runs it through ``worker.cli.launcher`` (worker/cli/resident)."""
