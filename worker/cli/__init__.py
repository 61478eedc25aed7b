"""The ``crm`` command line (Typer). The entry point is ``worker.cli.main:main``."""
