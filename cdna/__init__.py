"""Customer DNA: CLI and configuration loading."""

__version__ = "0.1.0"
PIPELINE_VERSION = __version__

__all__ = ["PIPELINE_VERSION", "__version__"]
