"""The one version string, read from the installed package's metadata (issue 12)."""

from __future__ import annotations

from importlib import metadata

__all__ = ["__version__"]

try:
    __version__ = metadata.version("customer-dna")
except (
    metadata.PackageNotFoundError
):  # pragma: no cover - running from a source tree that was never installed
    __version__ = "0+unknown"
