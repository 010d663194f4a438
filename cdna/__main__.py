"""`python -m cdna` runs the CLI."""

from cdna.cli import _console_main

_console_main()
