"""Speech detection: Silero VAD (shipped inside faster-whisper) with its recurrent state reset in windows.

Silero carries an LSTM state through a whole recording. After long hold music that state keeps speech
probabilities low for several seconds: on a call-center channel, the agent's first words after a 30 s hold
scored 0.05-0.4 instead of 0.8 and two thirds of the turn was dropped before decoding. So the model runs
on `window_s` windows with a fresh state, on two grids offset by half a window, and each 32 ms frame takes
the higher of its two probabilities: every frame has a reading with at most `window_s / 2` of history
behind it. Music and line noise still score near zero with a fresh state (measured on `bench/asr.py`'s
calls), so nothing is added there; the cost is running the (cheap) model twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import numpy as np

__all__ = ["speech_spans"]

_FRAME = 512  # Silero's window at 16 kHz


class _WindowedSilero:
    """Calls the Silero model on fixed windows, each with a fresh state, on two half-offset grids."""

    def __init__(self, model: Any, window_s: float) -> None:
        self.model = model
        self.window = max(2, int(window_s * 16000) // _FRAME) * _FRAME

    def _windows(self, audio: np.ndarray) -> np.ndarray:
        edges = [*range(0, audio.size, self.window), audio.size]
        return np.concatenate([self.model(audio[a:b]) for a, b in pairwise(edges)], axis=0)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        probs = self._windows(audio)
        half = self.window // 2 // _FRAME * _FRAME
        if audio.size > half:  # the second grid's first half-window would repeat the first grid's
            shifted = self._windows(audio[half:])
            tail = probs[half // _FRAME :]
            np.maximum(tail, shifted, out=tail)
        return probs


@contextlib.contextmanager
def _windowed_model(window_s: float) -> Iterator[None]:
    from faster_whisper import vad

    # get_speech_timestamps fetches its model through this module function; swap it for the call only
    original = vad.get_vad_model
    windowed = _WindowedSilero(original(), window_s)
    vad.get_vad_model = lambda: windowed  # type: ignore[assignment]
    try:
        yield
    finally:
        vad.get_vad_model = original


def speech_spans(audio: np.ndarray, vad_options: Any, window_s: float = 10.0) -> list[dict[str, int]]:
    """Speech spans ({"start", "end"} in samples) of one 16 kHz channel, Silero state reset every window.

    Args:
        audio: mono float32 16 kHz.
        vad_options: faster-whisper `VadOptions` (thresholds, padding, maximum span length).
        window_s: seconds of audio per fresh-state window (two grids offset by half of it); 0 runs
            Silero once over the whole channel with its carried state.
    """
    from faster_whisper.vad import get_speech_timestamps

    if window_s <= 0:
        return list(get_speech_timestamps(audio, vad_options))
    with _windowed_model(window_s):
        return list(get_speech_timestamps(audio, vad_options))
