"""Sweep of the transcription defaults: CER of option variants on real spontaneous, telephone and read speech.

One model load; every variant runs the production per-call step (`transcribe_call`: VAD, packing, batched
decoding, fallback, filters, the VAD-off retry) on the same decoded audio, and prints the corpus CER
(NFKC, spaces and punctuation removed) per data set, the files that came out empty, and CPU seconds.
The reference row is plain faster-whisper on the same weights: `WhisperModel.transcribe(language="ko",
beam_size=5, vad_filter=True)` with every other option at its default.

Data sets (each folder holds transcripts.tsv):
  kspon       --kspon DIR (real spontaneous conversation, KsponSpeech sample)
  kspon-tel   the same clips through a telephone channel built here, never stored on disk for long:
              300-3400 Hz band-pass, 8 kHz, G.711 mu-law WAV, decoded back by the pipeline's decoder
  read sets   --read DIR (emotiontts_ko, zeroth_ko)

Example:
  nice -n 5 python bench/asr_sweep.py --kspon ../shared/data/kspon_dev --read ../shared/data/emotiontts_ko \\
      --variant ref --variant 'beam_size=5' --variant 'beam_size=5,vad_min_silence_ms=500'
"""

from __future__ import annotations

import argparse
import ast
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.asr import items_from_folder, normalise, telephone_copy  # noqa: E402


@dataclass(frozen=True)
class Clip:
    """One decoded utterance with its reference."""

    name: str
    audio: Any  # DecodedAudio
    ref: str


def load_set(folder: Path, telephone: bool, tmp: Path) -> list[Clip]:
    """Decoded clips of a folder, optionally through the telephone channel."""
    from cdna.ingest.asr.audio import decode_audio

    out = []
    for item in items_from_folder(folder):
        path = Path(item.path)
        if telephone:
            path = telephone_copy(path, tmp / f"tel-{path.stem}.wav")
        out.append(Clip(Path(item.path).stem, decode_audio(path), item.refs[0]))
    return out


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def parse_variant(text: str) -> dict[str, Any]:
    """'beam_size=5,vad_min_silence_ms=500,temperatures=(0.0,0.2)' -> a dict of option changes."""
    out: dict[str, Any] = {}
    if text in ("", "default", "ref"):
        return out
    depth, part, parts = 0, "", []
    for ch in text:
        depth += ch in "([" and 1 or ch in ")]" and -1 or 0
        if ch == "," and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += ch
    parts.append(part)
    for p in parts:
        key, value = p.split("=", 1)
        try:
            out[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            out[key.strip()] = value.strip()
    return out


def run_variant(name: str, clips: list[Clip], backend: Any, opts: Any) -> tuple[list[str], float]:
    """Hypotheses of every clip under one option set, and the CPU seconds they took."""
    from cdna.ingest.asr.audio import AudioError
    from cdna.ingest.asr.pipeline import CallJob, transcribe_call

    hyps = []
    t0 = _cpu()
    for clip in clips:
        if name == "ref":
            segments, _ = backend.model.transcribe(
                clip.audio.channels[0], language="ko", beam_size=5, vad_filter=True
            )
            hyps.append(" ".join(s.text.strip() for s in segments))
            continue
        job = CallJob(clip.name, clip.name, date(2025, 1, 1), layout="mono")
        try:
            table = transcribe_call(job, clip.audio, backend, opts)
            hyps.append(" ".join(table.column("text").to_pylist()))
        except AudioError:
            hyps.append("")
    return hyps, _cpu() - t0


def cer(refs: list[str], hyps: list[str]) -> float:
    """Corpus CER (NFKC, spaces and punctuation removed)."""
    import jiwer

    pairs = [(normalise(r), normalise(h)) for r, h in zip(refs, hyps, strict=True) if normalise(r)]
    return float(jiwer.cer([r for r, _ in pairs], [h for _, h in pairs]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--kspon", type=Path, help="spontaneous set (also measured through the telephone channel)"
    )
    ap.add_argument("--no-telephone", action="store_true", help="skip the telephone copy of --kspon")
    ap.add_argument("--read", type=Path, action="append", default=[], help="read-speech sets")
    ap.add_argument("--variant", action="append", default=[], help="'ref', 'default' or key=value,…")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--show-empty", action="store_true", help="name the clips that gave no text")
    args = ap.parse_args()

    from cdna.core.config import load_config
    from cdna.ingest.asr.backends import load_backend
    from cdna.ingest.asr.options import AsrOptions

    base = AsrOptions.from_config(load_config().asr, threads_per_worker=args.threads)
    backend = load_backend(base)
    with tempfile.TemporaryDirectory() as tmp:
        sets: dict[str, list[Clip]] = {}
        if args.kspon:
            sets["kspon"] = load_set(args.kspon, False, Path(tmp))
            if not args.no_telephone:
                sets["kspon-tel"] = load_set(args.kspon, True, Path(tmp))
        for folder in args.read:
            sets[folder.name] = load_set(folder, False, Path(tmp))
    for name, clips in sets.items():
        seconds = sum(c.audio.duration_s for c in clips)
        print(f"# {name}: {len(clips)} clips, {seconds:.0f} s", flush=True)
    for text in args.variant or ["ref", "default"]:
        changes = parse_variant(text)
        opts = replace(base, **changes)
        backend.opts = opts  # one loaded model serves every variant
        cells = []
        for set_name, clips in sets.items():
            t0 = time.perf_counter()
            hyps, cpu = run_variant(text, clips, backend, opts)
            wall = time.perf_counter() - t0
            audio = sum(c.audio.duration_s for c in clips)
            empty = [c.name for c, h in zip(clips, hyps, strict=True) if not normalise(h)]
            cells.append(
                f"{set_name} CER {100 * cer([c.ref for c in clips], hyps):5.1f}% empty {len(empty)} "
                f"cpu-RTF {cpu / audio:.3f} wall {wall:.0f}s"
            )
            if args.show_empty and empty:
                cells[-1] += f" {empty}"
        print(f"{text:<60} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
