"""The `cdna` command line: commands, the demo and the nightly run. Nothing below this layer imports it."""
