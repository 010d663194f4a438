"""Decoding and resampling (PyAV/ffmpeg): any container and codec ffmpeg reads → float32 16 kHz channels.

Resampling happens once here; everything downstream works on 16 kHz float32 arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cdna.core.errors import CdnaError

__all__ = [
    "SAMPLE_RATE",
    "AudioError",
    "DecodedAudio",
    "decode_audio",
    "probe_duration",
]

SAMPLE_RATE = 16_000
_TRUNCATED_SHARE = 0.9  # decoded audio shorter than this share of the declared duration = truncated


class AudioError(CdnaError):
    """A recording that cannot be transcribed; `reason` is the short code kept in the run record.

    Attributes:
        reason: one of empty, not_audio, unsupported_codec, truncated, too_long, silent.
    """

    exit_code = 3

    def __init__(self, reason: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.reason = reason


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded recording.

    Attributes:
        channels: float32 arrays at 16 kHz, one per channel (stereo keeps both; more are cut to two).
        source_rate: the file's sample rate.
        codec: codec name as ffmpeg reports it (pcm_s16le, pcm_mulaw, flac, mp3 …).
        duration_s: decoded duration in seconds.
        container: the container format found by probing the content (wav, mp3, ogg, flac …).
    """

    channels: tuple[np.ndarray, ...]
    source_rate: int
    codec: str
    duration_s: float
    container: str = ""

    def container_mismatch(self, path: Path) -> bool:
        """Whether the probed container differs from what the file's extension says (an MP3 named .wav)."""
        return bool(self.container) and not _extension_matches(path, self.container)


# extensions whose container goes by another ffmpeg demuxer name
_EXTENSION_FORMATS = {
    "opus": "ogg",
    "oga": "ogg",
    "wave": "wav",
    "mka": "matroska",
    "weba": "webm",
    "wma": "asf",
}


def _extension_matches(path: Path, container: str) -> bool:
    ext = path.suffix.lower().lstrip(".")
    return _EXTENSION_FORMATS.get(ext, ext) in container.split(",")


def _open(path: Path):  # type: ignore[no-untyped-def]
    # No format is forced: ffmpeg probes the bytes (the extension only breaks ties), so an MP3 named
    # `.wav` opens with the mp3 demuxer (issue 15); DecodedAudio.container records what was found.
    import av

    if not path.is_file():
        raise AudioError("not_found", f"{path}: file not found")
    if path.stat().st_size == 0:
        raise AudioError("empty", f"{path}: empty file (0 bytes)")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise AudioError(
            "not_audio", f"{path}: not a readable audio file ({exc.__class__.__name__})"
        ) from exc
    if not container.streams.audio:
        container.close()
        raise AudioError("not_audio", f"{path}: the file holds no audio stream")
    return container


def _declared_duration(container, stream) -> float | None:  # type: ignore[no-untyped-def]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return None


def _wav_missing_bytes(path: Path) -> int:
    """Bytes a RIFF/WAVE header promises beyond the end of the file (0 when complete or not a WAV)."""
    import struct

    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return 0
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return 0
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                if size in (0, 0xFFFFFFFF):  # streaming recorders leave the size open
                    return 0
                return max(0, fh.tell() + size - path.stat().st_size)
            fh.seek(size + (size & 1), 1)


def probe_duration(path: Path) -> float | None:
    """The duration the file's header declares, in seconds (None when it declares none); cheap."""
    container = _open(path)
    try:
        return _declared_duration(container, container.streams.audio[0])
    finally:
        container.close()


def decode_audio(path: Path, max_duration_s: float | None = None) -> DecodedAudio:
    """Decode a recording to float32 16 kHz, channel by channel.

    Args:
        path: wav (PCM, mu-law, A-law), flac, mp3, ogg, m4a … anything ffmpeg decodes.
        max_duration_s: refuse longer recordings (checked on the header first, then on the samples).

    Raises:
        AudioError: empty, not audio, unsupported codec, truncated or too long, with the reason code.
    """
    import av

    container = _open(path)
    try:
        stream = container.streams.audio[0]
        found = container.format.name
        codec = stream.codec_context.name if stream.codec_context else "unknown"
        declared = _declared_duration(container, stream)
        if max_duration_s is not None and declared is not None and declared > max_duration_s:
            raise AudioError(
                "too_long",
                f"{path}: {declared:,.0f} s long, more than the maximum {max_duration_s:,.0f} s",
                hint="raise asr.max_duration_s in the config to accept it",
            )
        n_channels = min(stream.codec_context.channels or 1, 2)
        layout = "stereo" if n_channels == 2 else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        parts: list[np.ndarray] = []
        decoded = 0
        limit = None if max_duration_s is None else int(max_duration_s * SAMPLE_RATE) + SAMPLE_RATE
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler keep its own clock (odd pts break it)
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray())
                    decoded += parts[-1].shape[1]
                if limit is not None and decoded > limit:
                    raise AudioError(
                        "too_long",
                        f"{path}: more than the maximum {max_duration_s:,.0f} s of audio",
                        hint="raise asr.max_duration_s in the config to accept it",
                    )
            for out in resampler.resample(None):
                parts.append(out.to_ndarray())
        except av.error.DecoderNotFoundError as exc:  # pragma: no cover - depends on the ffmpeg build
            raise AudioError("unsupported_codec", f"{path}: no decoder for codec {codec!r}") from exc
        except av.FFmpegError as exc:
            raise AudioError(
                "truncated", f"{path}: decoding failed after {decoded / SAMPLE_RATE:.1f} s ({exc})"
            ) from exc
    except av.error.DecoderNotFoundError as exc:  # pragma: no cover
        raise AudioError("unsupported_codec", f"{path}: no decoder for codec {codec!r}") from exc
    finally:
        container.close()
    if not parts:
        raise AudioError("empty", f"{path}: no audio samples (codec {codec})")
    audio = np.concatenate(parts, axis=1).astype(np.float32, copy=False)
    duration = audio.shape[1] / SAMPLE_RATE
    if duration < 0.05:
        raise AudioError("empty", f"{path}: only {duration * 1000:.0f} ms of audio")
    missing = _wav_missing_bytes(path)
    if missing:
        raise AudioError(
            "truncated",
            f"{path}: truncated — the WAV header promises {missing:,} more bytes than the file holds "
            f"({duration:.1f} s decode)",
        )
    if declared is not None and declared > 1.0 and duration < _TRUNCATED_SHARE * declared:
        raise AudioError(
            "truncated",
            f"{path}: truncated — the header declares {declared:.1f} s but only {duration:.1f} s decode",
        )
    if max_duration_s is not None and duration > max_duration_s:
        raise AudioError(
            "too_long",
            f"{path}: {duration:,.0f} s long, more than the maximum {max_duration_s:,.0f} s",
            hint="raise asr.max_duration_s in the config to accept it",
        )
    channels = tuple(np.ascontiguousarray(audio[i]) for i in range(audio.shape[0]))
    return DecodedAudio(channels, int(stream.codec_context.sample_rate or 0), codec, duration, found)
