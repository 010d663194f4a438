"""Benchmark: this transcription pipeline vs the reference openai-whisper `transcribe()`, same audio, same weights.

Systems (--systems): `pipeline` (this pipeline with the config's defaults; `pipeline:off|hotwords|prompt`
overrides asr.vocabulary, to report CER with and without the banking terms), `reference` (openai-whisper
`transcribe()` defaults) and `fw-reference` (plain faster-whisper on the same weights: beam 5, VAD,
language ko, every other option at its default — the accuracy bar the defaults must meet, issue 13).

Prints, for each: audio seconds per wall second, real-time factor, peak RSS (the whole process tree) and
character error rate (jiwer; spaces and punctuation removed) against reference transcripts, then the
throughput ratio. The reference loads the very same Whisper base weights, converted exactly from the
CTranslate2 model to an openai-whisper checkpoint (`ingest.asr.model.openai_checkpoint`), and runs
`model.transcribe(audio, language="ko")` with every other option at its default (fp32 on CPU, greedy
with temperature fallback, conditioning on previous text, no VAD) on the same decoded 16 kHz audio, each
stereo channel on its own like the pipeline. Language is fixed because Whisper misdetects espeak Korean.

Data sets (any mix, each measured separately):
  --lake LAKE        synthetic calls of `cdna world --audio` (references: _truth/call_scripts per speaker)
  --folder DIR       any folder with transcripts.tsv (file, text), e.g. ../shared/data/kspon_dev
  --telephone        also each --folder through a telephone channel built here (300-3400 Hz band-pass,
                     8 kHz, G.711 mu-law WAV in a temporary folder, never stored)
  --calls-from DIR   realistic call-center stereo recordings built from DIR's clips (transcripts.tsv),
                     --calls of them (default 4, ~300 s in all, like the issue's 297 s): agent on the left
                     channel, customer on the right, four turns per call; deterministic (seed 3).
                     * telephone channel: each channel band-limited to 300-3400 Hz, 8 kHz, written as
                       G.711 mu-law WAV the way call recorders store it;
                     * no digital silence: continuous office noise behind the agent (1/f, -50 dBFS RMS)
                       and line hiss on the customer's leg (white, -54 dBFS RMS) from start to end;
                     * pauses as in a real call: a short turn gap (0.5-1.5 s), an agent lookup/typing
                       pause (4-9 s) and one hold of 20-40 s with synthesised hold music (a looping
                       pentatonic melody of plucked tones over a bass, -22 dBFS RMS) on the agent
                       channel, the one the customer hears; the customer's channel keeps its line hiss;
                     * the speech clips keep their own audio (no gain, no crosstalk between channels,
                       so each channel's reference holds exactly the words spoken on it).
  --plain-calls      build the older, easy variant instead: 16-bit PCM, digital zeros between turns,
                     0.4-2.5 s pauses, no hold (openai-whisper skips such zeros cheaply)

Example: python bench/asr.py --calls-from ../shared/data/kspon_dev --folder ../shared/data/kspon_dev --telephone
CER: NFKC, spaces and punctuation removed, corpus level (jiwer).

Zeroth-Korean corpus, Atlas Guide / Zeroth Project, CC BY 4.0 (clips under ../shared/data/zeroth_ko).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_PUNCT = re.compile(r"[\s\.,!?~·…\"'“”‘’()\[\]{}:;\-–—%/]+")


@dataclass(frozen=True)
class Item:
    """One recording with its reference text per channel."""

    path: str
    refs: dict[int, str]
    layout: str = "auto"


def normalise(text: str) -> str:
    """Text for CER: NFKC, spaces and punctuation removed."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text))


def items_from_folder(folder: Path) -> list[Item]:
    """Items of a folder with transcripts.tsv (file<TAB>text)."""
    out = []
    for line in (folder / "transcripts.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        if "\t" in line:
            name, text = line.split("\t", 1)
            out.append(Item(str(folder / name), {0: text}, "mono"))
    return out


def items_from_lake(lake: Path) -> list[Item]:
    """Synthetic calls with audio; references are the call scripts per speaker."""
    import pyarrow.parquet as pq

    calls = pq.read_table(lake / "raw" / "calls").to_pylist()
    scripts = pq.read_table(lake / "_truth" / "call_scripts.parquet").to_pylist()
    out = []
    for call in calls:
        if not call["audio_path"]:
            continue
        turns = sorted((s for s in scripts if s["call_id"] == call["call_id"]), key=lambda s: s["turn"])
        left = "agent" if call["channel_layout"] != "stereo_agent_right" else "customer"
        refs = {
            ch: " ".join(t["text"] for t in turns if (t["speaker"] == left) == (ch == 0)) for ch in (0, 1)
        }
        out.append(Item(str(lake / call["audio_path"]), refs, call["channel_layout"]))
    return out


def _telephone(x: np.ndarray) -> np.ndarray:
    """16 kHz float → 8 kHz telephone band (300-3400 Hz), clipped to full scale like a recorder's codec."""
    from scipy.signal import butter, resample_poly, sosfilt

    band = butter(4, [300, 3400], btype="bandpass", fs=16000, output="sos")
    return np.clip(resample_poly(sosfilt(band, x), 1, 2), -1.0, 1.0).astype(np.float32)


def telephone_copy(path: Path, out: Path) -> Path:
    """`path` through a telephone line: 300-3400 Hz band-pass, 8 kHz, stored as G.711 mu-law WAV at `out`."""
    import soundfile as sf

    from cdna.ingest.asr.audio import decode_audio

    channels = decode_audio(path).channels
    sf.write(out, np.stack([_telephone(c) for c in channels], axis=1), 8000, subtype="ULAW")
    return out


def _noise(rng: np.random.Generator, n: int, dbfs: float, tilt: float) -> np.ndarray:
    """Continuous background noise at `dbfs` RMS; spectrum ∝ 1/f**tilt (0 line hiss, 1 office rumble)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / 16000)
    spectrum /= np.maximum(freqs, 20.0) ** (tilt / 2)
    noise = np.fft.irfft(spectrum, n)
    return (noise / np.sqrt(np.mean(noise**2)) * 10 ** (dbfs / 20)).astype(np.float32)


def hold_music(seconds: float, rng: np.random.Generator, dbfs: float = -22.0) -> np.ndarray:
    """Synthesised hold music: a looping pentatonic melody of plucked tones (harmonics, attack and decay
    envelope) over a sustained bass, at `dbfs` RMS: loud, tonal, rhythmic, and without a single word."""
    sr = 16000
    scale = 261.63 * 2 ** (np.array([0, 2, 4, 7, 9, 12, 14, 16]) / 12)
    melody = rng.choice(scale, 8)
    beat = 0.45
    out = np.zeros(int(seconds * sr), np.float64)
    note_t = np.arange(int(beat * 1.6 * sr)) / sr
    envelope = np.minimum(note_t / 0.02, 1.0) * np.exp(-note_t / 0.35)
    for k in range(int(seconds / beat)):
        f = melody[k % len(melody)]
        tone = (
            np.sin(2 * np.pi * f * note_t)
            + 0.5 * np.sin(4 * np.pi * f * note_t)
            + 0.25 * np.sin(6 * np.pi * f * note_t)
        )
        start = int(k * beat * sr)
        piece = (tone * envelope)[: out.size - start]
        out[start : start + piece.size] += piece
    t = np.arange(out.size) / sr
    bass = scale[(t // (8 * beat)).astype(int) % 2 * 3] / 2  # C / G, one bar each
    out += 0.4 * np.sin(2 * np.pi * bass * t)
    return (out / np.sqrt(np.mean(out**2)) * 10 ** (dbfs / 20)).astype(np.float32)


def make_calls(source: Path, out: Path, n_calls: int = 4, seed: int = 3) -> list[Item]:
    """Realistic call-center stereo recordings from a folder of clips (see the module docstring)."""
    import soundfile as sf

    from cdna.ingest.asr.audio import decode_audio

    clips = items_from_folder(source)
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    audio = {c.path: decode_audio(Path(c.path)).channels[0] for c in clips}
    items = []
    for k in range(n_calls):
        order = [clips[int(i)] for i in rng.permutation(len(clips))[:4]]
        # gaps before turns 1..3: one is the hold, one an agent lookup pause, the other a short turn gap
        kinds = ["hold", "lookup", "gap"]
        rng.shuffle(kinds)
        gaps = {
            "gap": rng.uniform(0.5, 1.5),
            "lookup": rng.uniform(4.0, 9.0),
            "hold": rng.uniform(20.0, 40.0),
        }
        lengths = [1.0] + [gaps[kind] for kind in kinds]
        total = sum(lengths) + sum(audio[c.path].size for c in order) / 16000 + 1.5
        n = int(total * 16000)
        agent = _noise(rng, n, -50.0, 1.0)  # office background behind the agent's headset
        customer = _noise(rng, n, -54.0, 0.0)  # line hiss on the customer's leg
        refs: dict[int, list[str]] = {0: [], 1: []}
        cursor = 0
        for turn, (clip, gap) in enumerate(zip(order, lengths, strict=True)):
            if turn and kinds[turn - 1] == "hold":
                music = hold_music(gap, rng)
                fade = np.minimum(
                    1.0, np.minimum(np.arange(music.size), music.size - np.arange(music.size)) / 4000
                )
                agent[cursor : cursor + music.size] += music * fade.astype(np.float32)
            cursor += int(gap * 16000)
            speech = audio[clip.path]
            (agent if turn % 2 == 0 else customer)[cursor : cursor + speech.size] += speech
            refs[turn % 2].append(clip.refs[0])
            cursor += speech.size
        stereo = np.stack([_telephone(agent), _telephone(customer)], axis=1)
        path = out / f"call{k:02d}.wav"
        sf.write(path, stereo, 8000, subtype="ULAW")  # G.711 μ-law, as call recorders store it
        items.append(Item(str(path), {c: " ".join(t) for c, t in refs.items()}, "stereo_agent_left"))
    return items


def make_plain_calls(source: Path, out: Path, n_calls: int = 4, seed: int = 3) -> list[Item]:
    """The older, easy variant (`--plain-calls`): digital silence between turns with 0.4-2.5 s pauses, 16-bit PCM."""
    import soundfile as sf

    from cdna.ingest.asr.audio import decode_audio

    clips = items_from_folder(source)
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    audio = {c.path: decode_audio(Path(c.path)).channels[0] for c in clips}
    for k in range(n_calls):
        order = rng.permutation(len(clips))[: max(4, len(clips) // 2)]
        left: list[np.ndarray] = []
        right: list[np.ndarray] = []
        refs: dict[int, list[str]] = {0: [], 1: []}
        for turn, idx in enumerate(order):
            clip = clips[int(idx)]
            pause = np.zeros(int(rng.uniform(0.4, 2.5) * 16000), np.float32)
            speech = audio[clip.path]
            speaker = turn % 2
            (left if speaker == 0 else right).extend([pause, speech])
            (right if speaker == 0 else left).extend([pause, np.zeros_like(speech)])
            refs[speaker].append(clip.refs[0])
        stereo = np.stack([np.concatenate(left), np.concatenate(right)], axis=1)
        path = out / f"call{k:02d}.wav"
        sf.write(path, stereo[::2], 8000, subtype="PCM_16")  # telephone rate
        items.append(Item(str(path), {c: " ".join(t) for c, t in refs.items()}, "stereo_agent_left"))
    return items


# ---------------------------------------------------------------- the two systems (run in subprocesses)


def run_pipeline(
    items: list[Item],
    workers: int,
    threads: int,
    beam_size: int | None = None,
    vocabulary: str | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """This pipeline: the production runner (local engine) into a throwaway lake."""
    import pyarrow.parquet as pq

    from cdna.core.config import load_config
    from cdna.core.lake import Lake
    from cdna.ingest.asr.options import AsrOptions
    from cdna.ingest.asr.pipeline import CallJob
    from cdna.ingest.asr.runner import run_transcription

    opts = AsrOptions.from_config(
        load_config().asr,
        workers=workers,
        threads_per_worker=threads,
        beam_size=beam_size,
        vocabulary=vocabulary,
        device=device,
    )
    jobs = [CallJob(Path(i.path).stem, i.path, date(2025, 1, 1), layout=i.layout) for i in items]
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake.at(tmp, create=True)
        t0 = time.perf_counter()
        summary = run_transcription(jobs, lake, opts)
        wall = time.perf_counter() - t0
        rows = pq.read_table(lake.transcripts).to_pylist() if summary.outputs else []
    hyps: dict[str, dict[int, str]] = {}
    for r in sorted(rows, key=lambda r: (r["call_id"], r["channel"], r["segment_index"])):
        ch = hyps.setdefault(r["call_id"], {})
        ch[r["channel"]] = (ch.get(r["channel"], "") + " " + r["text"]).strip()
    return {
        "wall_s": wall,
        "audio_s": summary.audio_s,
        "hyps": hyps,
        "model": f"{summary.model_id} {opts.resolved_compute_type} on {opts.device}, beam {opts.beam_size}, VAD, vocabulary {opts.vocabulary}",
        "failed": [f.message for f in summary.failures],
    }


def run_fw_reference(items: list[Item], threads: int) -> dict[str, Any]:
    """Plain faster-whisper, same weights: beam 5, VAD, language ko, every other option at its default."""
    from faster_whisper import WhisperModel

    from cdna.ingest.asr.audio import decode_audio
    from cdna.ingest.asr.model import default_model_dir

    t0 = time.perf_counter()
    model = WhisperModel(str(default_model_dir()), device="cpu", compute_type="int8", cpu_threads=threads)
    hyps: dict[str, dict[int, str]] = {}
    audio_s = 0.0
    for item in items:
        decoded = decode_audio(Path(item.path))
        audio_s += decoded.duration_s
        for ch, samples in enumerate(decoded.channels):
            segments, _ = model.transcribe(samples, language="ko", beam_size=5, vad_filter=True)
            hyps.setdefault(Path(item.path).stem, {})[ch] = " ".join(s.text.strip() for s in segments)
    return {
        "wall_s": time.perf_counter() - t0,
        "audio_s": audio_s,
        "hyps": hyps,
        "model": "faster-whisper WhisperModel.transcribe int8, beam 5, vad_filter, defaults otherwise",
        "failed": [],
    }


def run_reference(items: list[Item], threads: int, seed: int = 0) -> dict[str, Any]:
    """openai-whisper `transcribe()` with its defaults (language fixed to ko), same weights and audio."""
    import torch
    import whisper

    from cdna.ingest.asr.audio import decode_audio
    from cdna.ingest.asr.model import default_model_dir, openai_checkpoint

    torch.set_num_threads(threads)
    # its temperature fallback samples: on noisy calls the work (and the CER) varies from run to run
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    model = whisper.load_model(str(openai_checkpoint(default_model_dir())), device="cpu")
    hyps: dict[str, dict[int, str]] = {}
    audio_s = 0.0
    for item in items:
        decoded = decode_audio(Path(item.path))
        audio_s += decoded.duration_s
        for ch, samples in enumerate(decoded.channels):
            result = model.transcribe(samples, language="ko", fp16=False, verbose=None)
            hyps.setdefault(Path(item.path).stem, {})[ch] = str(result["text"]).strip()
    return {
        "wall_s": time.perf_counter() - t0,
        "audio_s": audio_s,
        "hyps": hyps,
        "model": f"whisper-base (CTranslate2 weights converted exactly) / openai-whisper fp32, seed {seed}",
        "failed": [],
    }


def _child(args: argparse.Namespace) -> None:
    items = [
        Item(d["path"], {int(k): v for k, v in d["refs"].items()}, d["layout"])
        for d in json.loads(Path(args.items).read_text())
    ]
    system, _, vocabulary = args.system.partition(":")
    if system == "pipeline":
        result = run_pipeline(
            items, args.workers, args.threads, args.beam_size, vocabulary or None, args.device
        )
    elif system == "fw-reference":
        result = run_fw_reference(items, args.workers * args.threads)
    else:
        result = run_reference(items, args.workers * args.threads, args.seed)
    Path(args.result).write_text(json.dumps(result, ensure_ascii=False))


def _measure(system: str, items: list[Item], args: argparse.Namespace) -> dict[str, Any]:
    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        items_path, result_path = Path(tmp) / "items.json", Path(tmp) / "result.json"
        items_path.write_text(json.dumps([i.__dict__ for i in items], ensure_ascii=False))
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--system",
            system,
            "--items",
            str(items_path),
            "--result",
            str(result_path),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            *(["--beam-size", str(args.beam_size)] if args.beam_size else []),
            *(["--device", args.device] if args.device else []),
            "--seed",
            str(args.seed),
        ]
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.Popen(cmd)
        peak = 0
        ps = psutil.Process(proc.pid)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                try:
                    tree = [ps, *ps.children(recursive=True)]
                    peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
                except psutil.Error:
                    pass
                time.sleep(0.1)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        code = proc.wait()
        stop.set()
        thread.join()
        if code != 0:
            raise SystemExit(f"{system} run failed with exit code {code}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = json.loads(result_path.read_text())
    result["peak_rss_mb"] = peak / 2**20
    # CPU seconds of the whole process tree: on a shared, busy machine wall time says little, while
    # CPU time / cores is the wall time the run would take with the cores to itself
    result["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def _cer(items: list[Item], hyps: dict[str, Any]) -> float:
    import jiwer

    refs, outs = [], []
    for item in items:
        got = hyps.get(Path(item.path).stem, {})
        for ch, ref in item.refs.items():
            if normalise(ref):
                refs.append(normalise(ref))
                outs.append(normalise(got.get(str(ch), "")))
    return float(jiwer.cer(refs, outs))


def _empty(items: list[Item], hyps: dict[str, Any]) -> int:
    """Channels with a reference but no hypothesis text."""
    return sum(
        1
        for item in items
        for ch, ref in item.refs.items()
        if normalise(ref) and not normalise(hyps.get(Path(item.path).stem, {}).get(str(ch), ""))
    )


def bench(name: str, items: list[Item], args: argparse.Namespace) -> None:
    """Run both systems on `items` and print the figures."""
    print(
        f"\n== {name}: {len(items)} file(s); {args.workers} worker(s) x {args.threads} thread(s) "
        f"(pipeline) / {args.workers * args.threads} torch threads (reference); cores: {os.cpu_count()}"
    )
    results: dict[str, dict[str, Any]] = {}
    for system in args.systems:
        r = _measure(system, items, args)
        r["cer"] = _cer(items, r["hyps"])  # type: ignore[arg-type]
        results[system] = r
        wall, audio = float(r["wall_s"]), float(r["audio_s"])  # type: ignore[arg-type]
        cores = args.workers * args.threads
        ideal = float(r["cpu_s"]) / cores  # type: ignore[arg-type]
        r["ideal_wall_s"] = ideal
        print(
            f"{system:>12}: {audio:7.1f} s audio in {wall:7.1f} s wall = {audio / wall:6.2f} audio s/wall s, "
            f"RTF {wall / audio:.3f}, peak RSS {r['peak_rss_mb']:,.0f} MB, CER {100 * r['cer']:.1f}% "
            f"[{r['model']}]\n{'':>14}CPU {r['cpu_s']:.1f} s = {audio / ideal:6.2f} audio s per "
            f"{cores}-core second, RTF {ideal / audio:.3f} on {cores} free cores"
        )
        for msg in r.get("failed") or []:  # type: ignore[union-attr]
            print(f"           failed: {msg}")
    pipelines = [k for k in results if k.startswith("pipeline")]
    for name in pipelines if "reference" in results else []:
        p, ref = results[name], results["reference"]
        speed = (float(p["audio_s"]) / float(p["wall_s"])) / (float(ref["audio_s"]) / float(ref["wall_s"]))  # type: ignore[arg-type]
        cpu_speed = (float(p["audio_s"]) / float(p["cpu_s"])) / (float(ref["audio_s"]) / float(ref["cpu_s"]))  # type: ignore[arg-type]
        print(
            f"  throughput ratio {name}/reference: {speed:.2f}x wall, {cpu_speed:.2f}x CPU time; "
            f"CER {100 * p['cer']:.1f}% vs "
            f"{100 * ref['cer']:.1f}% (reference: openai-whisper transcribe() defaults, same weights)"
        )
    for name in pipelines if "fw-reference" in results else []:
        p, fw = results[name], results["fw-reference"]
        verdict = "no worse" if p["cer"] <= fw["cer"] else "WORSE"
        print(
            f"  CER {name} {100 * p['cer']:.1f}% vs faster-whisper beam 5 + VAD {100 * fw['cer']:.1f}%: "
            f"{verdict}; empty outputs {_empty(items, p['hyps'])} vs {_empty(items, fw['hyps'])}"
        )
    if args.show:
        for system, r in results.items():
            for item in items[: args.show]:
                stem = Path(item.path).stem
                for ch, want in item.refs.items():
                    print(
                        f"  [{system} {stem} ch{ch}] REF {want[:80]}\n  {'':>{len(system) + len(stem) + 6}}HYP "
                        f"{r['hyps'].get(stem, {}).get(str(ch), '')[:80]}"
                    )  # type: ignore[union-attr]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", type=Path, action="append", default=[])
    ap.add_argument("--folder", type=Path, action="append", default=[])
    ap.add_argument("--calls-from", type=Path, action="append", default=[])
    ap.add_argument("--calls", type=int, default=4, help="call-like recordings to build per --calls-from")
    ap.add_argument(
        "--plain-calls", action="store_true", help="--calls-from builds digital-silence calls without hold"
    )
    ap.add_argument(
        "--limit",
        type=int,
        default=0,
        help="at most this many synthetic calls per --lake (0 = all; espeak audio makes the reference loop)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", help="pipeline device: cpu, or cuda (batched float16); default asr.device")
    ap.add_argument("--seed", type=int, default=0, help="torch seed of the reference's fallback sampling")
    ap.add_argument(
        "--beam-size", type=int, help="pipeline beam width (default: asr.beam_size of the config)"
    )
    ap.add_argument(
        "--systems",
        nargs="+",
        default=["pipeline", "reference", "fw-reference"],
        help="pipeline (pipeline:off|hotwords|prompt overrides asr.vocabulary), reference "
        "(openai-whisper defaults), fw-reference (faster-whisper beam 5 + VAD)",
    )
    ap.add_argument(
        "--telephone",
        action="store_true",
        help="also measure each --folder through a telephone channel (300-3400 Hz, 8 kHz, mu-law; not kept)",
    )
    ap.add_argument("--show", type=int, default=0, help="print reference and hypothesis of the first N files")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--system", help=argparse.SUPPRESS)
    ap.add_argument("--items", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return
    from cdna.ingest.asr.model import default_model_dir, openai_checkpoint

    openai_checkpoint(default_model_dir())  # build caches outside the timed runs
    with tempfile.TemporaryDirectory() as tmp:
        cut = (lambda xs: xs[: args.limit]) if args.limit else (lambda xs: xs)
        for k, source in enumerate(args.calls_from):
            if args.plain_calls:
                made = make_plain_calls(source, Path(tmp) / f"calls{k}", args.calls)
                bench(f"plain call-like stereo 8 kHz (digital silence) from {source}", made, args)
            else:
                made = make_calls(source, Path(tmp) / f"calls{k}", args.calls)
                bench(
                    f"call-center stereo 8 kHz mu-law (noise, pauses, hold music) from {source}", made, args
                )
        for k, folder in enumerate(args.folder):
            bench(f"folder {folder}", items_from_folder(folder), args)
            if args.telephone:
                tel = Path(tmp) / f"tel{k}"
                tel.mkdir()
                items = [
                    Item(str(telephone_copy(Path(i.path), tel / Path(i.path).name)), i.refs, i.layout)
                    for i in items_from_folder(folder)
                ]
                bench(f"telephone copy (300-3400 Hz, 8 kHz mu-law) of {folder}", items, args)
        for lake in args.lake:
            bench(f"synthetic calls {lake} (espeak-ng)", cut(items_from_lake(lake)), args)


if __name__ == "__main__":
    main()
