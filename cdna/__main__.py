"""`python -m cdna` runs the CLI."""

from cdna.cli.app import _console_main

_console_main()
