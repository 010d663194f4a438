"""`python -m cdna` runs the CLI."""

from cdna.core.procs import adopt_parent_from_env

adopt_parent_from_env()  # a stage that `cdna nightly` started ends with it, whatever ends the night (issue 15)

from cdna.cli.app import _console_main  # noqa: E402 - the watchdog starts before the CLI's imports

_console_main()
