"""Real-shaped audio for the ASR tests: two real Korean clips (Zeroth-Korean, CC BY 4.0) and call layouts."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "asr"
CLIPS = ("104_003_0019", "104_003_0253")


def reference(name: str) -> str:
    """Reference text of a shipped clip."""
    for line in (DATA / "transcripts.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        file, text = line.split("\t", 1)
        if file.startswith(name):
            return text
    raise KeyError(name)


@functools.cache
def clip(name: str) -> np.ndarray:
    """A shipped clip as float32 16 kHz mono."""
    from cdna.ingest.asr.audio import decode_audio

    return decode_audio(DATA / f"{name}.ogg").channels[0]


def cer(ref: str, hyp: str) -> float:
    """Character error rate with spaces and punctuation removed (numbers stay as written)."""
    import jiwer

    norm = lambda s: re.sub(r"[\s\.,!?]+", "", s)  # noqa: E731
    return float(jiwer.cer(norm(ref), norm(hyp)))


def silence(seconds: float) -> np.ndarray:
    """Digital silence at 16 kHz."""
    return np.zeros(int(seconds * 16000), np.float32)


def stereo_call(left_first: str = CLIPS[0], right_second: str = CLIPS[1]) -> np.ndarray:
    """(2, n) call: the agent (left) speaks, then the customer (right) answers, pauses around."""
    a, b = clip(left_first), clip(right_second)
    left = np.concatenate([silence(0.5), a, silence(1.0), np.zeros_like(b), silence(0.5)])
    right = np.concatenate([silence(0.5), np.zeros_like(a), silence(1.0), b, silence(0.5)])
    return np.stack([left, right])


def write_wav(path: Path, samples: np.ndarray, rate: int = 8000, subtype: str = "PCM_16") -> Path:
    """Write (channels, n) or (n,) 16 kHz float audio as a WAV at `rate` (8 kHz telephone by default)."""
    import soundfile as sf

    data = samples.T if samples.ndim == 2 else samples
    if rate != 16000:
        from scipy.signal import resample_poly

        data = resample_poly(data, rate, 16000, axis=0).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, rate, subtype=subtype)
    return path


def hold_noise(seconds: float, seed: int = 0) -> np.ndarray:
    """Hold music plus line hiss: a looping melody of sine tones and soft noise, no speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    notes = np.array([262, 330, 392, 523, 392, 330])
    freq = notes[(t * 2).astype(int) % len(notes)]
    music = 0.2 * np.sin(2 * np.pi * freq * t) + 0.1 * np.sin(2 * np.pi * 2 * freq * t)
    return (music + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def telephone(samples: np.ndarray, noise_dbfs: float = -50.0, seed: int = 0) -> np.ndarray:
    """A 16 kHz signal as a call recorder keeps it: line noise added, 300-3400 Hz band, 8 kHz and back."""
    from scipy.signal import butter, resample_poly, sosfilt

    rng = np.random.default_rng(seed)
    noisy = samples + 10 ** (noise_dbfs / 20) * rng.standard_normal(samples.size)
    band = butter(4, [300, 3400], btype="bandpass", fs=16000, output="sos")
    return resample_poly(resample_poly(sosfilt(band, noisy), 1, 2), 2, 1).astype(np.float32)
