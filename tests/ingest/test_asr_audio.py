"""Decoding through PyAV: every container/codec/rate/layout of the issue, and each bad-file reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cdna.ingest.asr.audio import SAMPLE_RATE, AudioError, decode_audio, probe_duration
from tests.ingest.asr_helpers import CLIPS, clip, stereo_call, write_wav


def _encode(path: Path, samples: np.ndarray, rate: int, codec: str) -> Path:
    """Encode (channels, n) 16 kHz float audio with PyAV at `rate` (resampled by ffmpeg)."""
    import av

    layout = "stereo" if samples.shape[0] == 2 else "mono"
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        src = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32), format="fltp", layout=layout
        )
        src.sample_rate = SAMPLE_RATE
        resampler = av.AudioResampler(format=stream.codec_context.format, layout=layout, rate=rate)
        pts = 0
        for frame in [*resampler.resample(src), *resampler.resample(None)]:
            frame.pts, pts = pts, pts + frame.samples
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize(
    ("suffix", "codec", "rate", "channels"),
    [
        ("wav", "pcm_s16le", 8000, 2),
        ("wav", "pcm_mulaw", 8000, 2),
        ("wav", "pcm_alaw", 8000, 1),
        ("flac", "flac", 16000, 1),
        ("mp3", "libmp3lame", 44100, 2),
        ("ogg", "libopus", 48000, 1),
        ("m4a", "aac", 48000, 2),
    ],
)
def test_decodes_every_format_to_16k_channels(
    tmp_path: Path, suffix: str, codec: str, rate: int, channels: int
) -> None:
    call = stereo_call() if channels == 2 else clip(CLIPS[0])[None, :]
    path = _encode(tmp_path / f"call.{suffix}", call, rate, codec)
    audio = decode_audio(path)
    assert len(audio.channels) == channels
    assert audio.source_rate == rate
    assert all(ch.dtype == np.float32 for ch in audio.channels)
    assert audio.duration_s == pytest.approx(call.shape[1] / SAMPLE_RATE, abs=0.15)
    if channels == 2:  # agent speaks first on the left, customer later on the right: channels stay apart
        half = audio.channels[0].size // 2
        assert np.abs(audio.channels[0][:half]).mean() > 5 * np.abs(audio.channels[1][:half]).mean()
        assert np.abs(audio.channels[1][half:]).mean() > 5 * np.abs(audio.channels[0][half:]).mean()


def test_resamples_8k_telephone_audio_once_to_16k(tmp_path: Path) -> None:
    t = np.arange(8000 * 2) / 8000
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    import soundfile as sf

    path = tmp_path / "tone.wav"
    sf.write(path, tone, 8000, subtype="PCM_16")
    audio = decode_audio(path)
    (ch,) = audio.channels
    assert ch.size == pytest.approx(2 * SAMPLE_RATE, abs=32)
    spectrum = np.abs(np.fft.rfft(ch))
    assert np.fft.rfftfreq(ch.size, 1 / SAMPLE_RATE)[spectrum.argmax()] == pytest.approx(1000, abs=2)


def test_bad_files_carry_a_reason(tmp_path: Path) -> None:
    good = write_wav(tmp_path / "good.wav", stereo_call())
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("이것은 녹음이 아닙니다\n" * 50, encoding="utf-8")
    (tmp_path / "trunc.wav").write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    reasons = {}
    for name in ("empty.wav", "text.wav", "trunc.wav", "missing.wav"):
        with pytest.raises(AudioError) as err:
            decode_audio(tmp_path / name)
        reasons[name] = err.value.reason
        assert str(tmp_path / name) in str(err.value)
    assert reasons == {
        "empty.wav": "empty",
        "text.wav": "not_audio",
        "trunc.wav": "truncated",
        "missing.wav": "not_found",
    }


def test_too_long_is_refused_from_the_header(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", stereo_call())
    assert probe_duration(path) == pytest.approx(stereo_call().shape[1] / SAMPLE_RATE, abs=0.01)
    with pytest.raises(AudioError) as err:
        decode_audio(path, max_duration_s=5)
    assert err.value.reason == "too_long"
    assert "asr.max_duration_s" in (err.value.hint or "")
