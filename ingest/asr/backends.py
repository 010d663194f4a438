"""ASR backends behind one interface: faster-whisper (CTranslate2, default) and openai-whisper (torch).

A backend holds one loaded model and turns one 16 kHz channel into raw segments; loading happens once
per worker process or Ray actor. Nothing here downloads: models are local paths (see `model.py`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from cdna.core.errors import ConfigError
from cdna.ingest.asr.audio import SAMPLE_RATE
from cdna.ingest.asr.model import ModelRef, openai_checkpoint, resolve_model
from cdna.ingest.asr.options import AsrOptions
from cdna.ingest.asr.vad import speech_spans

__all__ = [
    "Backend",
    "FasterWhisperBackend",
    "OpenAIWhisperBackend",
    "PackedSpeech",
    "RawSegment",
    "load_backend",
    "pack_speech",
    "vad_options",
]

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # defensive: every model path below is local


@dataclass(frozen=True)
class RawSegment:
    """One decoded segment of one channel, before filtering.

    Attributes:
        start / end: seconds from the start of the channel.
        text: decoded text.
        avg_logprob / no_speech_prob / compression_ratio: the decoder's confidence figures.
    """

    start: float
    end: float
    text: str
    avg_logprob: float | None
    no_speech_prob: float | None
    compression_ratio: float | None


class Backend(Protocol):
    """What the pipeline needs from an ASR engine."""

    model_id: str

    def transcribe(self, channels: Sequence[np.ndarray], vad: bool | None = None) -> list[list[RawSegment]]:
        """Segments of each mono 16 kHz float32 channel, times in seconds of that channel.

        `vad` overrides the options' VAD switch (None keeps it).
        """
        ...


def vad_options(opts: AsrOptions) -> Any:
    """Silero settings of the options, as faster-whisper `VadOptions` (spans of at most 30 s)."""
    from faster_whisper.vad import VadOptions

    return VadOptions(
        threshold=opts.vad_threshold,
        min_speech_duration_ms=opts.vad_min_speech_ms,
        min_silence_duration_ms=opts.vad_min_silence_ms,
        speech_pad_ms=opts.vad_speech_pad_ms,
        max_speech_duration_s=30,
    )


class FasterWhisperBackend:
    """faster-whisper: batched decoding of Silero-VAD chunks (int8 on CPU, float16 on CUDA)."""

    def __init__(self, ref: ModelRef, opts: AsrOptions) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        if ref.kind != "ct2":
            raise ConfigError(f"faster-whisper needs a CTranslate2 folder, got {ref.path}")
        self.opts = opts
        self.model_id = f"{ref.model_id}/faster-whisper"
        self.model = WhisperModel(
            str(ref.path),
            device=opts.device,
            compute_type=opts.resolved_compute_type,
            cpu_threads=opts.threads_per_worker,
            num_workers=1,
            local_files_only=True,
        )
        self.pipeline = BatchedInferencePipeline(self.model)

    def _common(self) -> dict[str, Any]:
        o = self.opts
        return dict(
            language=o.language,
            beam_size=o.beam_size,
            condition_on_previous_text=o.condition_on_previous_text,
            no_speech_threshold=o.no_speech_threshold,
            log_prob_threshold=o.log_prob_threshold,
            compression_ratio_threshold=o.compression_ratio_threshold,
            hotwords=o.decoder_terms if o.vocabulary == "hotwords" else None,
            initial_prompt=o.decoder_terms if o.vocabulary == "prompt" else None,
        )

    def transcribe(self, channels: Sequence[np.ndarray], vad: bool | None = None) -> list[list[RawSegment]]:
        """Segments per channel: VAD once, speech of all channels packed into ≤30 s chunks, batched decoding.

        Packing both channels of a call into one batch keeps the batch full (a channel alone rarely fills
        one); decoding with timestamps splits chunks into turns, mapped back to channel time. A chunk that
        fails the loop or log-prob test is decoded again with the fallback temperatures.

        Args:
            channels: mono 16 kHz float32 channels.
            vad: override `opts.vad` (the runner retries a file that gave nothing with VAD off).
        """
        o = self.opts
        if not (o.vad if vad is None else vad):
            out = []
            # the no-speech rule is left to the pipeline's filter, which records why a segment went
            common = {**self._common(), "no_speech_threshold": None}
            for audio in channels:
                segments, _ = self.model.transcribe(
                    audio, vad_filter=False, temperature=list(o.temperatures), **common
                )
                out.append([_raw(s.start, s.end, s) for s in segments])
            return out
        packed = pack_speech(channels, vad_options(o), o.vad_window_s)
        result: list[list[RawSegment]] = [[] for _ in channels]
        if not packed.clips:
            return result
        segments, _ = self.pipeline.transcribe(
            packed.audio,
            vad_filter=False,
            clip_timestamps=[{"start": c.start, "end": c.end} for c in packed.clips],
            batch_size=o.batch_size,
            temperature=o.temperatures[0],
            # Timestamp tokens make batched Whisper stop early in a chunk, expecting to seek on (it cannot):
            # decode text only, and place words by cross-attention alignment instead.
            without_timestamps=True,
            word_timestamps=True,
            **self._common(),
        )
        for s in segments:
            for decoded in self._fallback(packed, s):
                for channel, start, end, text in packed.split_words(decoded):
                    result[channel].append(_raw(start, end, decoded, text))
        return result

    def _needs_fallback(self, s: Any) -> bool:
        o = self.opts
        if len(o.temperatures) < 2:
            return False
        if s.no_speech_prob > o.no_speech_threshold and s.avg_logprob < o.log_prob_threshold:
            return False  # silence, not a failed decode (Whisper's own rule)
        return s.compression_ratio > o.compression_ratio_threshold or s.avg_logprob < o.log_prob_threshold

    def _fallback(self, packed: PackedSpeech, s: Any) -> list[Any]:
        """The batched segment, or its chunk decoded again with the fallback temperatures when better."""
        if not self._needs_fallback(s):
            return [s]
        from dataclasses import replace

        clip = min(packed.clips, key=lambda c: abs(c.start * 100 - s.seek))
        audio = packed.audio[int(clip.start * SAMPLE_RATE) : int(clip.end * SAMPLE_RATE)]
        again, _ = self.model.transcribe(
            audio,
            vad_filter=False,
            temperature=list(self.opts.temperatures[1:]),
            without_timestamps=True,
            word_timestamps=True,
            **self._common(),
        )
        redone = list(again)
        if not redone or max(r.avg_logprob for r in redone) <= s.avg_logprob:
            return [s]
        shift = clip.start
        return [
            replace(
                r,
                seek=s.seek,
                start=r.start + shift,
                end=r.end + shift,
                words=[replace(w, start=w.start + shift, end=w.end + shift) for w in r.words or []],
            )
            for r in redone
        ]


def _raw(start: float, end: float, s: Any, text: str | None = None) -> RawSegment:
    return RawSegment(
        round(start, 3),
        round(end, 3),
        s.text if text is None else text,
        s.avg_logprob,
        s.no_speech_prob,
        s.compression_ratio,
    )


@dataclass(frozen=True)
class _Clip:
    start: float  # seconds in the packed audio
    end: float
    channel: int
    spans: tuple[tuple[float, float, float], ...]  # (packed start, channel start, length) per speech span


@dataclass(frozen=True)
class PackedSpeech:
    """The speech of all channels, silence removed, cut into ≤30 s clips.

    Attributes:
        audio: the packed 16 kHz audio.
        clips: clip boundaries in the packed audio, each from one channel.
    """

    audio: np.ndarray
    clips: tuple[_Clip, ...]

    def restore(self, start: float, end: float) -> tuple[int, float, float]:
        """(channel, start, end) in channel seconds of a segment given in packed seconds."""
        # a segment belongs to the clip holding its start
        clip = next((c for c in self.clips if c.start - 0.01 <= start < c.end), self.clips[-1])
        begin = _to_channel(clip, start, is_start=True)
        return clip.channel, begin, max(begin, _to_channel(clip, min(end, clip.end)))

    def split_words(self, segment: Any) -> list[tuple[int, float, float, str]]:
        """One (channel, start, end, text) per speech span a decoded chunk's words fall in: turn-level rows."""
        words = list(segment.words or [])
        if not words:
            channel, start, end = self.restore(segment.start, segment.end)
            return [(channel, start, end, segment.text)]
        # word times may start a little before their chunk: find the chunk by its offset (`seek`, 10 ms frames)
        clip = min(self.clips, key=lambda c: abs(c.start * 100 - segment.seek))
        groups: dict[int, list[Any]] = {}
        for w in words:
            middle = (w.start + w.end) / 2
            index = next(
                (i for i, sp in enumerate(clip.spans) if middle < sp[0] + sp[2]), len(clip.spans) - 1
            )
            groups.setdefault(index, []).append(w)
        out = []
        for index, group in sorted(groups.items()):
            _, span_start, span_len = clip.spans[index]  # words of one span stay inside it
            start = min(
                max(_to_channel(clip, group[0].start, is_start=True), span_start), span_start + span_len
            )
            end = min(max(start, _to_channel(clip, min(group[-1].end, clip.end))), span_start + span_len)
            out.append((clip.channel, start, end, "".join(w.word for w in group)))
        return out


def _to_channel(clip: _Clip, t: float, is_start: bool = False) -> float:
    # Whisper timestamps come in 20 ms steps: a start within 0.3 s of a span's end belongs to the next span.
    slack = 0.3 if is_start else 0.0
    for i, (packed_start, channel_start, length) in enumerate(clip.spans):
        last = i == len(clip.spans) - 1
        if t < packed_start + length - slack or last or (not is_start and t <= packed_start + length):
            return channel_start + min(max(0.0, t - packed_start), length)
    return clip.spans[-1][1] + clip.spans[-1][2]


def pack_speech(
    channels: Sequence[np.ndarray], vad_options: Any, window_s: float = 10.0, max_clip_s: float = 30.0
) -> PackedSpeech:
    """Run Silero VAD on each channel and pack the speech spans into clips of at most `max_clip_s`."""
    pieces: list[np.ndarray] = []
    clips: list[_Clip] = []
    cursor = 0  # samples in the packed audio
    for ch, audio in enumerate(channels):
        spans = speech_spans(audio, vad_options, window_s)
        current: list[tuple[float, float, float]] = []
        clip_start = cursor
        for span in spans:
            length = span["end"] - span["start"]
            if current and (cursor - clip_start + length) > max_clip_s * SAMPLE_RATE:
                clips.append(_Clip(clip_start / SAMPLE_RATE, cursor / SAMPLE_RATE, ch, tuple(current)))
                current, clip_start = [], cursor
            pieces.append(audio[span["start"] : span["end"]])
            current.append((cursor / SAMPLE_RATE, span["start"] / SAMPLE_RATE, length / SAMPLE_RATE))
            cursor += length
        if current:
            clips.append(_Clip(clip_start / SAMPLE_RATE, cursor / SAMPLE_RATE, ch, tuple(current)))
    packed = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    return PackedSpeech(packed, tuple(clips))


class OpenAIWhisperBackend:
    """The reference openai-whisper implementation (torch); VAD, when on, becomes `clip_timestamps`."""

    def __init__(self, ref: ModelRef, opts: AsrOptions) -> None:
        try:
            import torch
            import whisper
        except ImportError as exc:
            raise ConfigError(
                "the openai-whisper backend needs the torch extra",
                hint="pip install torch==2.13.0 openai-whisper (CPU build), or use --backend faster-whisper",
            ) from exc
        self.opts = opts
        checkpoint = openai_checkpoint(ref.path) if ref.kind == "ct2" else ref.path
        self.model_id = f"{ref.model_id}/openai-whisper"
        if opts.device == "cpu":
            torch.set_num_threads(opts.threads_per_worker)
        self.model = whisper.load_model(str(checkpoint), device=opts.device)

    def transcribe(self, channels: Sequence[np.ndarray], vad: bool | None = None) -> list[list[RawSegment]]:
        """Segments per channel with openai-whisper's `transcribe()` (temperature fallback included)."""
        use_vad = self.opts.vad if vad is None else vad
        return [self._one(audio, use_vad) for audio in channels]

    def _one(self, audio: np.ndarray, use_vad: bool) -> list[RawSegment]:
        o = self.opts
        clips: list[float] | str = "0"
        if use_vad:
            spans = speech_spans(audio, vad_options(o), o.vad_window_s)
            if not spans:
                return []
            clips = [t for s in spans for t in (s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE)]
        result = self.model.transcribe(
            audio,
            language=o.language,
            beam_size=o.beam_size,
            best_of=o.beam_size,
            fp16=o.device == "cuda",
            condition_on_previous_text=o.condition_on_previous_text,
            no_speech_threshold=o.no_speech_threshold,
            logprob_threshold=o.log_prob_threshold,
            compression_ratio_threshold=o.compression_ratio_threshold,
            temperature=o.temperatures if len(o.temperatures) > 1 else o.temperatures[0],
            initial_prompt=o.decoder_terms,
            clip_timestamps=clips,
            verbose=None,
        )
        return [
            RawSegment(
                float(s["start"]),
                float(s["end"]),
                str(s["text"]),
                float(s["avg_logprob"]),
                float(s["no_speech_prob"]),
                float(s["compression_ratio"]),
            )
            for s in result["segments"]
        ]


def load_backend(opts: AsrOptions) -> Backend:
    """Load the configured backend and model once (call it in each worker, never per file)."""
    ref = resolve_model(opts.model, opts.backend)
    if opts.backend == "faster-whisper":
        return FasterWhisperBackend(ref, opts)
    if opts.backend == "openai-whisper":
        return OpenAIWhisperBackend(ref, opts)
    raise ConfigError(
        f"unknown ASR backend {opts.backend!r}", hint="use faster-whisper or openai-whisper (torch extra)"
    )
