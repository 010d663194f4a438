"""Nightly call transcription (issue #3): recordings → LAKE/transcripts/ with speaker roles and timings.

Modules: `audio` (PyAV decoding, 16 kHz), `model` (default Whisper base weights, no downloads),
`backends` (faster-whisper / openai-whisper behind one interface), `options`, `pipeline` (pure steps),
`runner` (skip-done, locks, process pool or Ray actors, atomic writes, run record).
"""

from cdna.ingest.asr.options import PIPELINE_VERSION, AsrOptions

__all__ = ["PIPELINE_VERSION", "AsrOptions"]
