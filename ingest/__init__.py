"""Ingest stage: structured sources (validated import), the synthetic bank, audio and ASR."""
