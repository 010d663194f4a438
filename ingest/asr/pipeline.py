"""Pure transcription steps: decoded audio + a loaded backend → one call's transcript segments table.

No file I/O here: the runner decodes, calls `transcribe_call`, and writes the table it returns.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pyarrow as pa

from cdna.contracts.schemas import TRANSCRIPTS, conform
from cdna.ingest.asr.audio import AudioError, DecodedAudio
from cdna.ingest.asr.backends import Backend, RawSegment
from cdna.ingest.asr.options import PIPELINE_VERSION, AsrOptions

__all__ = [
    "CallJob",
    "check_not_silent",
    "drop_reason",
    "empty_transcripts",
    "keep_segment",
    "segments_table",
    "speaker_roles",
    "transcribe_call",
]


@dataclass(frozen=True)
class CallJob:
    """One recording to transcribe.

    Attributes:
        call_id: from the manifest, else the file name without extension.
        path: the recording.
        day: output partition (Korea-time calendar day of started_at, or --date).
        customer_id: from the manifest; None for a bare folder.
        started_at: UTC start time from the manifest.
        layout: stereo_agent_left, stereo_agent_right, mono, or "auto" (stereo files read as agent left).
    """

    call_id: str
    path: str
    day: date
    customer_id: str | None = None
    started_at: datetime | None = None
    layout: str = "auto"


def speaker_roles(n_channels: int, layout: str, channel_roles: Sequence[str]) -> list[str]:
    """Speaker of each channel: config roles for stereo (swapped for stereo_agent_right), 'unknown' for mono."""
    if n_channels == 1 or layout == "mono":
        return ["unknown"] * n_channels
    roles = list(channel_roles[:2]) + ["unknown"] * max(0, 2 - len(channel_roles))
    if layout == "stereo_agent_right":
        roles = roles[::-1]
    return roles[:n_channels]


def check_not_silent(audio: DecodedAudio, path: str, silence_dbfs: float) -> None:
    """Refuse a recording whose every channel stays below `silence_dbfs` (reason 'silent')."""
    peak = max(float(np.max(np.abs(ch))) if ch.size else 0.0 for ch in audio.channels)
    level = 20 * np.log10(peak) if peak > 0 else -np.inf
    if level < silence_dbfs:
        raise AudioError(
            "silent",
            f"{path}: all silence (peak {level:.0f} dBFS over {audio.duration_s:.1f} s)",
            hint="check the recorder's channel mapping; nothing was transcribed",
        )


def drop_reason(seg: RawSegment, opts: AsrOptions) -> str | None:
    """Why a decoded segment is not speech (empty, term_echo, no_speech, loop), or None to keep it."""
    if not seg.text.strip():
        return "empty"
    if opts.hotwords and _only_hotwords(seg.text, opts.hotwords):
        return (
            "term_echo"  # Whisper repeats its prompt on noise: a lone "주택담보대출" would be a false signal
        )
    if (
        seg.no_speech_prob is not None
        and seg.avg_logprob is not None
        and seg.no_speech_prob > opts.no_speech_threshold
        and seg.avg_logprob < opts.log_prob_threshold
    ):
        return "no_speech"
    if seg.compression_ratio is not None and seg.compression_ratio > opts.compression_ratio_threshold:
        return "loop"
    return None


def keep_segment(seg: RawSegment, opts: AsrOptions) -> bool:
    """Whether a decoded segment is speech: not empty, not a no-speech guess, not a loop, not a prompt echo."""
    return drop_reason(seg, opts) is None


def _only_hotwords(text: str, hotwords: Sequence[str]) -> bool:
    rest = re.sub(r"[\s\.,!?~…]+", "", text)
    for word in sorted(hotwords, key=len, reverse=True):
        rest = rest.replace(re.sub(r"\s+", "", word), "")
    return not rest


def empty_transcripts() -> pa.Table:
    """A transcripts table with no rows."""
    return TRANSCRIPTS.schema.empty_table()


def segments_table(
    job: CallJob, per_channel: Sequence[Sequence[RawSegment]], roles: Sequence[str], model_id: str
) -> pa.Table:
    """The TRANSCRIPTS rows of one call: channel order, then time order, numbered per channel."""
    rows: dict[str, list] = {f.name: [] for f in TRANSCRIPTS.schema}
    for channel, segments in enumerate(per_channel):
        for index, seg in enumerate(sorted(segments, key=lambda s: (s.start, s.end))):
            rows["call_id"].append(job.call_id)
            rows["customer_id"].append(job.customer_id)
            rows["started_at"].append(job.started_at)
            rows["channel"].append(channel)
            rows["speaker"].append(roles[channel])
            rows["segment_index"].append(index)
            rows["start_s"].append(float(seg.start))
            rows["end_s"].append(float(seg.end))
            rows["text"].append(seg.text.strip())
            rows["avg_logprob"].append(seg.avg_logprob)
            rows["no_speech_prob"].append(seg.no_speech_prob)
            rows["model_id"].append(model_id)
            rows["pipeline_version"].append(PIPELINE_VERSION)
    table = pa.Table.from_pydict(rows, schema=TRANSCRIPTS.schema)
    return conform(table, TRANSCRIPTS, source=f"transcript of {job.call_id}")


def transcribe_call(job: CallJob, audio: DecodedAudio, backend: Backend, opts: AsrOptions) -> pa.Table:
    """Transcribe one decoded call: per-channel segments, hallucination filter, speaker roles.

    A call that gives no text with VAD is decoded once more without it (a short "네" can fall under
    Silero's threshold) before it is called speechless.

    Raises:
        AudioError: reason 'silent' for an all-silence recording (a bad file), 'no_speech' when nothing
            decoded survives the filters (hold music, noise: a real call without words, not a failure);
            its message says what each attempt found.
    """
    check_not_silent(audio, job.path, opts.silence_dbfs)
    attempts = [None, False] if opts.vad else [None]
    why: list[str] = []
    kept: list[list[RawSegment]] = []
    for vad in attempts:
        raw = backend.transcribe(audio.channels, vad=vad)
        kept = [[s for s in segs if keep_segment(s, opts)] for segs in raw]
        if any(kept):
            break
        why.append(_nothing_kept("VAD off" if vad is False else "VAD on", raw, opts))
    if not any(kept):
        raise AudioError(
            "no_speech",
            f"{job.path}: no speech found in {audio.duration_s:.1f} s ({'; '.join(why)})",
        )
    roles = speaker_roles(len(audio.channels), job.layout, opts.channel_roles)
    return segments_table(job, kept, roles, backend.model_id)


def _nothing_kept(attempt: str, raw: Sequence[Sequence[RawSegment]], opts: AsrOptions) -> str:
    """e.g. "VAD on: no segment decoded" or "VAD off: 2 segments dropped (no_speech 2)"."""
    reasons = Counter(drop_reason(s, opts) for segs in raw for s in segs)
    if not reasons:
        return f"{attempt}: no segment decoded"
    detail = ", ".join(f"{r} {n}" for r, n in sorted(reasons.items(), key=lambda x: str(x[0])))
    return f"{attempt}: {sum(reasons.values())} segment(s) dropped ({detail})"
