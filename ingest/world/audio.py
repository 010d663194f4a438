"""Telephone-quality stereo recordings of synthetic calls (agent left, customer right).

Each turn is spoken by espeak-ng (one process per turn), resampled to the telephone rate and laid on its
speaker's channel with natural gaps; the agent channel gets a stretch of hold music, both channels get
light line noise, and the mix is band-limited to 300-3400 Hz and passed through 8-bit μ-law (G.711), as a
call-center recorder would store it. The voice is robotic: good for exercising the pipeline, never for
accuracy claims.

A few calls rendered this way ship with the package (Ogg/Opus, see ``build_assets.py``) so tests and demos
have real audio without espeak-ng: :func:`prerendered_calls`.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from cdna.core.errors import CdnaError
from cdna.ingest.world.scripts import Turn

__all__ = [
    "AudioRenderError",
    "PrerenderedCall",
    "RenderedCall",
    "espeak_available",
    "prerendered_calls",
    "render_call",
]

ASSETS = Path(__file__).parent / "assets"
_ESPEAK = "espeak-ng"
_CHANNEL = {"agent": 0, "customer": 1}
_HOLD_CUE = re.compile(r"기다려\s?주")
_ESPEAK_TIMEOUT_S = 60


class AudioRenderError(CdnaError):
    """A call could not be rendered to audio (espeak-ng missing or failing, bad sample rate)."""


@dataclass(frozen=True)
class RenderedCall:
    """A call written to disk.

    Attributes:
        path: the stereo WAV file (channel 0 agent, channel 1 customer).
        duration_s: length of the file in seconds.
        segments: ``(speaker, start_s, end_s, text)`` per turn, in speaking order; times are where the
            synthesised speech starts and ends in the file.
    """

    path: Path
    duration_s: float
    segments: list[tuple[str, float, float, str]]


@dataclass(frozen=True)
class PrerenderedCall:
    """A call shipped with the package as compressed stereo audio.

    Attributes:
        audio: the Ogg/Opus file (stereo, agent left, customer right).
        turns: the script that was spoken.
        intents: the call's intent ids (configs/intents.yaml).
        duration_s: length of the recording in seconds.
        segments: ``(speaker, start_s, end_s, text)`` per turn, as rendered.
    """

    audio: Path
    turns: list[Turn]
    intents: list[str]
    duration_s: float
    segments: list[tuple[str, float, float, str]] = field(default_factory=list)


def espeak_available() -> bool:
    """True when the ``espeak-ng`` executable is on ``PATH``."""
    return shutil.which(_ESPEAK) is not None


# ---------------------------------------------------------------------------------------------------------
# text → what a person reads aloud (espeak reads "010" as a number and "%" in English)

_DIGIT_WORD = ("공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
_GROUPED_DIGITS = re.compile(r"\d+(?:[-\s]\d+)+|\d{5,}|0\d+")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")


def _read_digits(m: re.Match[str]) -> str:
    groups = re.split(r"[-\s]+", m.group(0))
    return ", ".join("".join(_DIGIT_WORD[ord(c) - 48] for c in g) for g in groups)


def _read_decimal(m: re.Match[str]) -> str:
    return f"{m.group(1)} 점 " + " ".join(_DIGIT_WORD[ord(c) - 48] for c in m.group(2))


def _speakable(text: str) -> str:
    """How a person reads the turn: phone, card and account numbers digit by digit, % as 퍼센트."""
    text = _GROUPED_DIGITS.sub(_read_digits, text)
    text = _DECIMAL.sub(_read_decimal, text)
    return text.replace("%", " 퍼센트").replace("@", " 골뱅이 ")


# ---------------------------------------------------------------------------------------------------------
# synthesis


@dataclass(frozen=True)
class _Voice:
    name: str
    speed: int
    pitch: int
    gain: float


def _espeak(text: str, voice: _Voice) -> tuple[np.ndarray, int]:
    cmd = [_ESPEAK, "-v", voice.name, "-s", str(voice.speed), "-p", str(voice.pitch), "-b", "1", "--stdout"]
    try:
        proc = subprocess.run(
            cmd, input=text.encode("utf-8"), capture_output=True, timeout=_ESPEAK_TIMEOUT_S, check=False
        )
    except FileNotFoundError as exc:
        raise AudioRenderError(
            f"{_ESPEAK} is not installed", hint="install it (Debian/Ubuntu: apt-get install espeak-ng)"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise AudioRenderError(
            f"{_ESPEAK} timed out after {_ESPEAK_TIMEOUT_S} s on a {len(text)}-character turn"
        ) from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()[:300]
        raise AudioRenderError(f"{_ESPEAK} failed with exit code {proc.returncode}: {err}")
    return _parse_wav(proc.stdout)


def _parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode espeak's streamed WAV (its RIFF sizes are placeholders, so soundfile may refuse it)."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioRenderError(f"{_ESPEAK} produced no WAV audio ({len(data)} bytes)")
    pos, rate, bits, channels = 12, 0, 0, 1
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"fmt ":
            channels = int.from_bytes(data[pos + 10 : pos + 12], "little")
            rate = int.from_bytes(data[pos + 12 : pos + 16], "little")
            bits = int.from_bytes(data[pos + 22 : pos + 24], "little")
        elif chunk == b"data":
            body = data[pos + 8 :]
            if bits != 16 or rate <= 0:
                raise AudioRenderError(
                    f"{_ESPEAK} produced {bits}-bit audio at {rate} Hz; expected 16-bit PCM"
                )
            body = body[: len(body) - len(body) % (2 * channels)]
            pcm = np.frombuffer(body, dtype="<i2").astype(np.float32) / 32768.0
            return pcm.reshape(-1, channels).mean(axis=1), rate
        pos += 8 + size + (size & 1)
    raise AudioRenderError(f"{_ESPEAK} produced a WAV without a data chunk")


def _trim(x: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > threshold)
    if loud.size == 0:
        return x[:0]
    return x[max(0, loud[0] - 80) : loud[-1] + 80]


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return x
    g = math.gcd(src, dst)
    return signal.resample_poly(x, dst // g, src // g).astype(np.float32)


def _hold_music(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Quiet looping melody, the kind a bank plays while the agent checks something."""
    scale = np.array([261.6, 293.7, 329.6, 392.0, 440.0, 523.3])  # C-major pentatonic: never dissonant
    note_len = int(0.45 * sr)
    notes = rng.integers(0, len(scale), size=n // note_len + 1)
    t = np.arange(note_len) / sr
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-t * 2.5)
    out = np.empty((len(notes), note_len), dtype=np.float32)
    for i, k in enumerate(notes):
        f = scale[k]
        out[i] = envelope * (np.sin(2 * np.pi * f * t) + 0.4 * np.sin(4 * np.pi * f * t))
    return 0.08 * out.reshape(-1)[:n]


def _mu_law(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    """G.711-style companding round trip: the quantisation noise of a telephone line."""
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    y = np.round(y * 127.0) / 127.0
    return (np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu).astype(np.float32)


def render_call(
    turns: Sequence[Turn], path: Path, rng: np.random.Generator, *, sample_rate: int = 8000
) -> RenderedCall:
    """Render a call to a telephone-quality stereo WAV (16-bit PCM, agent left, customer right).

    Args:
        turns: the script, in speaking order.
        path: where to write the WAV; written to a temporary name first, then renamed.
        rng: random source for voices, gaps, hold placement and noise (same state, same file).
        sample_rate: output rate in Hz; at least 8000 so the 300-3400 Hz band fits.

    Returns:
        The written file, its duration and the time span of every turn.

    Raises:
        AudioRenderError: espeak-ng is missing or fails, ``turns`` is empty, or ``sample_rate`` < 8000.
    """
    if sample_rate < 8000:
        raise AudioRenderError(f"sample_rate {sample_rate} Hz is too low; the telephone band needs ≥ 8000 Hz")
    if not turns:
        raise AudioRenderError(f"no turns to render for {path}")
    if not espeak_available():
        raise AudioRenderError(
            f"{_ESPEAK} is not installed; cannot render {path}",
            hint="install it (Debian/Ubuntu: apt-get install espeak-ng) or use prerendered_calls()",
        )

    # One base voice with different pitch and rate per side: espeak's ko+ variants (f2, m3…) change the
    # formants and come out much less intelligible to Whisper than plain "ko".
    voices = {
        "agent": _Voice(
            "ko", int(rng.integers(168, 186)), int(rng.integers(60, 78)), float(rng.uniform(0.45, 0.6))
        ),
        "customer": _Voice(
            "ko", int(rng.integers(160, 181)), int(rng.integers(22, 45)), float(rng.uniform(0.3, 0.55))
        ),
    }
    gaps = rng.uniform(0.3, 1.2, size=len(turns))
    lead_in = float(rng.uniform(0.3, 0.8))
    hold_s = float(rng.uniform(3.0, 5.0))
    agent_turns = [i for i, t in enumerate(turns) if t.speaker == "agent"]
    cued = [i for i in agent_turns if _HOLD_CUE.search(turns[i].text)]
    middle = [i for i in agent_turns if 0 < i < len(turns) - 2]
    # Agents announce most holds ("잠시만 기다려 주세요"); some calls also have a silent check.
    silent = middle[int(rng.integers(0, len(middle)))] if middle and rng.random() < 0.3 else -1
    hold_after = cued[0] if cued else silent

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        spoken = list(pool.map(lambda t: _espeak(_speakable(t.text), voices[t.speaker]), turns))

    clips = []
    for (pcm, rate), turn in zip(spoken, turns, strict=True):
        clip = _trim(_resample(pcm, rate, sample_rate))
        peak = float(np.max(np.abs(clip))) if clip.size else 0.0
        clips.append(clip * (voices[turn.speaker].gain / peak) if peak > 0 else clip)

    segments: list[tuple[str, float, float, str]] = []
    placed: list[tuple[int, int, np.ndarray]] = []
    cursor = int(lead_in * sample_rate)
    hold_span = (0, 0)
    for i, (turn, clip) in enumerate(zip(turns, clips, strict=True)):
        start = cursor
        placed.append((_CHANNEL[turn.speaker], start, clip))
        segments.append((turn.speaker, start / sample_rate, (start + clip.size) / sample_rate, turn.text))
        cursor = start + clip.size + int(gaps[i] * sample_rate)
        if i == hold_after:
            hold_span = (cursor, cursor + int(hold_s * sample_rate))
            cursor = hold_span[1] + int(rng.uniform(0.2, 0.5) * sample_rate)
    total = cursor + int(rng.uniform(0.3, 0.8) * sample_rate)

    mix = np.zeros((total, 2), dtype=np.float32)
    for channel, start, clip in placed:
        mix[start : start + clip.size, channel] += clip
    mix[hold_span[0] : hold_span[1], 0] += _hold_music(hold_span[1] - hold_span[0], sample_rate, rng)
    # Line noise: a quiet headset on the agent side, a louder mobile line on the customer side.
    mix[:, 0] += rng.normal(0.0, 10 ** (-56 / 20), total).astype(np.float32)
    mix[:, 1] += rng.normal(0.0, 10 ** (-46 / 20), total).astype(np.float32)

    sos = signal.butter(4, [300, 3400], btype="bandpass", fs=sample_rate, output="sos")
    mix = signal.sosfilt(sos, mix, axis=0).astype(np.float32)
    mix = _mu_law(np.clip(mix, -1.0, 1.0))

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sf.write(tmp, mix, sample_rate, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)
    return RenderedCall(path, total / sample_rate, segments)


# ---------------------------------------------------------------------------------------------------------
# shipped calls


def prerendered_calls() -> list[PrerenderedCall]:
    """The calls shipped in ``ingest/world/assets/`` (stereo Ogg/Opus, 8 kHz source, agent left).

    Returns:
        One :class:`PrerenderedCall` per asset, in the order of ``assets/calls.json``.

    Raises:
        AudioRenderError: the manifest or one of its audio files is missing.
    """
    manifest = ASSETS / "calls.json"
    if not manifest.is_file():
        raise AudioRenderError(
            f"{manifest} is missing", hint="regenerate it with `python -m ingest.world.build_assets`"
        )
    records = json.loads(manifest.read_text(encoding="utf-8"))["calls"]
    calls = []
    for rec in records:
        audio = ASSETS / rec["audio"]
        if not audio.is_file():
            raise AudioRenderError(f"{audio} is listed in {manifest} but missing")
        calls.append(
            PrerenderedCall(
                audio=audio,
                turns=[Turn(t["speaker"], t["text"]) for t in rec["turns"]],
                intents=list(rec["intents"]),
                duration_s=float(rec["duration_s"]),
                segments=[(s[0], float(s[1]), float(s[2]), s[3]) for s in rec["segments"]],
            )
        )
    return calls
