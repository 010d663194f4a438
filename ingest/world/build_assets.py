"""Regenerate the pre-rendered calls shipped in ``ingest/world/assets/`` (needs espeak-ng and ffmpeg).

Six short calls covering different intents are scripted with :func:`call_script`, cut down to a short
call (greeting, reason, one identity question, one answer and follow-up, closing), rendered with
:func:`render_call` and encoded as stereo Ogg/Opus. The scripts, intents, durations and turn timings go
to ``assets/calls.json``. Seeds are fixed, so a rerun on the same espeak-ng and ffmpeg builds gives the
same files::

    python -m ingest.world.build_assets
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cdna.ingest.world.audio import ASSETS, AudioRenderError, RenderedCall, render_call
from cdna.ingest.world.scripts import Turn, call_script, make_persona

__all__ = ["CallSpec", "SPECS", "build", "main"]

_MIN_S = 20.0
_CANDIDATES = 2000  # scripts drafted per call; only the shortest few are rendered
_RENDERS = 24
_OPUS_BITRATE = "24k"


@dataclass(frozen=True)
class CallSpec:
    """One shipped call.

    Attributes:
        name: file stem of the audio asset.
        intents: the call's intent ids.
        product_hint: product id the customer asks about, if any.
        birth_date, gender, sido, sigungu: the fake customer behind the persona.
        max_s: longest acceptable rendering (two topics or a hold do not fit in 40 s of espeak speech).
        hold: whether the agent must put the customer on hold.
    """

    name: str
    intents: tuple[str, ...]
    product_hint: str | None
    birth_date: datetime.date
    gender: str
    sido: str
    sigungu: str
    max_s: float = 45.0
    hold: bool = False


_D = datetime.date
SPECS = (
    CallSpec(
        "call_01_jeonse", ("jeonse_loan_inquiry",), "jeonse_loan", _D(1992, 4, 11), "F", "서울", "마포구"
    ),
    CallSpec(
        "call_02_card_lost", ("card_lost",), None, _D(1978, 9, 3), "M", "부산광역시", "해운대구", 52.0, True
    ),
    CallSpec("call_03_fx", ("fx_remittance",), "fx_deposit", _D(1969, 12, 24), "F", "경기", "성남시 분당구"),
    CallSpec("call_04_pension", ("invest_pension",), "irp", _D(1971, 2, 28), "M", "대전", "유성구"),
    CallSpec(
        "call_05_mortgage_deposit",
        ("mortgage_inquiry", "deposit_open"),
        "mortgage",
        _D(1988, 6, 30),
        "M",
        "인천",
        "연수구",
        max_s=60.0,
    ),
    CallSpec("call_06_complaint", ("complaint",), None, _D(1958, 11, 5), "F", "대구", "수성구"),
)


_DIGITISH = re.compile(r"[0-9공영일이삼사오육칠팔구]")
# Closing lines that answer "anything else?"; the short call drops that question, so skip them.
_ANSWERS_A_QUESTION = ("아니요", "네 없습니다")


def _is_verified(text: str) -> bool:
    return "확인 되셨" in text or "확인되셨" in text


def _short_call(turns: list[Turn], two_intents: bool) -> list[Turn]:
    """Keep greeting, reason, the identity answer with the most digits, the answer(s), thanks, goodbye."""
    verified = next(i for i, t in enumerate(turns) if t.speaker == "agent" and _is_verified(t.text))
    answers = [i for i in range(3, verified) if turns[i].speaker == "customer"]
    richest = max(answers, key=lambda i: (len(_DIGITISH.findall(turns[i].text)), -i))
    keep = [0, 1, richest - 1, richest, verified]
    if "기다려 주" in turns[verified].text:  # the hold announcement: keep the answer after the hold too
        keep.append(verified + 1)
    if two_intents:
        second = next(
            i
            for i in range(verified + 1, len(turns))
            if turns[i].speaker == "customer"
            and any(w in turns[i].text for w in ("그리고", "하나 더", "또 하나"))
        )
        keep += [second, second + 1]
    keep += [len(turns) - 2, len(turns) - 1]  # the customer's thanks and the agent's goodbye
    return [turns[i] for i in sorted(set(keep))]


def _acceptable(turns: list[Turn], spec: CallSpec) -> bool:
    identity = turns[3].text
    if len(re.findall(r"\d", identity)) < 6 and len(_DIGITISH.findall(identity)) < 10:
        return False  # the shipped calls must carry spoken personal numbers for the masking stage
    if turns[-2].text.startswith(_ANSWERS_A_QUESTION):
        return False
    return not spec.hold or any("기다려 주" in t.text for t in turns)


def _encode(wav: Path, out: Path) -> None:
    cmd = [
        "ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(wav),
        "-c:a", "libopus", "-b:a", _OPUS_BITRATE, "-application", "voip",
        # bitexact: no random Ogg serial numbers or encoder tags, so reruns give identical files
        "-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1",
        str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise AudioRenderError(f"ffmpeg could not encode {wav} to {out}: {proc.stderr.decode()[:300]}")


def _render_spec(spec: CallSpec, index: int, workdir: Path) -> tuple[list[Turn], RenderedCall]:
    """Script many candidates, render the shortest few, keep the first that fits ``spec.max_s``."""
    candidates = []
    for attempt in range(_CANDIDATES):
        rng = np.random.default_rng([20250630, index, attempt])
        persona = make_persona(rng, spec.birth_date, spec.gender, spec.sido, spec.sigungu)
        full = call_script(rng, list(spec.intents), persona, product_hint=spec.product_hint)
        turns = _short_call(full, len(spec.intents) == 2)
        if not _acceptable(turns, spec):
            continue
        candidates.append((sum(len(t.text) for t in turns), attempt, turns))
    candidates.sort(key=lambda c: (c[0], c[1]))
    shortest = float("inf")
    for _, attempt, turns in candidates[:_RENDERS]:
        rng = np.random.default_rng([20250630, index, attempt, 1])
        rendered = render_call(turns, workdir / f"{spec.name}.wav", rng)
        if _MIN_S <= rendered.duration_s <= spec.max_s:
            return turns, rendered
        shortest = min(shortest, rendered.duration_s)
    raise AudioRenderError(
        f"no script for {spec.name} rendered within {_MIN_S}-{spec.max_s} s; the shortest took {shortest:.1f} s"
    )


def build(out_dir: Path = ASSETS) -> list[dict]:
    """Render, encode and describe every call in :data:`SPECS` into ``out_dir``.

    Args:
        out_dir: destination folder (the package's ``assets/`` by default).

    Returns:
        The manifest records written to ``out_dir/calls.json``.

    Raises:
        AudioRenderError: espeak-ng or ffmpeg is missing or fails.
    """
    if shutil.which("ffmpeg") is None:
        raise AudioRenderError("ffmpeg is not installed; cannot encode the call assets")
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, spec in enumerate(SPECS):
            turns, rendered = _render_spec(spec, index, Path(tmp))
            audio = f"{spec.name}.ogg"
            _encode(rendered.path, out_dir / audio)
            records.append(
                {
                    "id": spec.name,
                    "audio": audio,
                    "intents": list(spec.intents),
                    "duration_s": round(rendered.duration_s, 3),
                    "channel_layout": "stereo_agent_left",
                    "turns": [{"speaker": t.speaker, "text": t.text} for t in turns],
                    "segments": [[s, round(a, 3), round(b, 3), text] for s, a, b, text in rendered.segments],
                }
            )
    manifest = {
        "about": "Synthetic call-center calls (espeak-ng, robotic voice): 8 kHz stereo, agent left, customer "
        "right, Ogg/Opus. All personal data is fake. Regenerate with `python -m ingest.world.build_assets`.",
        "calls": records,
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    (out_dir / "calls.json").write_text(text, encoding="utf-8")
    return records


def main(argv: list[str] | None = None) -> int:
    """Rebuild the assets and print one line per call.

    Args:
        argv: optional ``[OUT_DIR]``; defaults to the package's assets folder.

    Returns:
        Process exit code (0 on success, 1 if rendering failed).
    """
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else ASSETS
    try:
        records = build(out_dir)
    except AudioRenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = 0
    for rec in records:
        size = (out_dir / rec["audio"]).stat().st_size
        total += size
        print(
            f"{rec['audio']:32s} {rec['duration_s']:6.1f} s {size / 1024:7.1f} KiB  {'+'.join(rec['intents'])}"
        )
    print(f"total audio {total / 1024:.1f} KiB in {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
