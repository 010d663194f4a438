"""Telephone-quality stereo rendering and the shipped call recordings."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
import yaml

from cdna.ingest.world import audio
from cdna.ingest.world.audio import AudioRenderError, espeak_available, prerendered_calls, render_call
from cdna.ingest.world.scripts import Turn, call_script, make_persona

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
INTENTS = {
    row["id"]
    for row in yaml.safe_load((Path(__file__).parents[2] / "configs" / "intents.yaml").read_text("utf-8"))[
        "intents"
    ]
}
SHORT_CALL = [
    Turn("agent", "안녕하십니까 고객님, 새봄은행 상담원 김하늘입니다."),
    Turn("customer", "카드를 잃어버렸어요."),
    Turn("agent", "확인해 보겠습니다. 잠시만 기다려 주세요."),
    Turn("agent", "기다려 주셔서 감사합니다. 사용 정지 처리되었습니다."),
    Turn("customer", "제 번호는 010-1234-5678이에요. 감사합니다."),
]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def _decode(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = [frame.to_ndarray() for frame in container.decode(stream)]
        return np.concatenate(frames, axis=1), stream.sample_rate


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> audio.RenderedCall:
    if not espeak_available():
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("calls") / "call.wav"
    return render_call(SHORT_CALL, path, np.random.default_rng(1))


@needs_espeak
def test_render_writes_stereo_8khz_pcm16(rendered: audio.RenderedCall) -> None:
    info = sf.info(rendered.path)
    assert (info.channels, info.samplerate, info.subtype, info.format) == (2, 8000, "PCM_16", "WAV")
    assert info.duration == pytest.approx(rendered.duration_s, abs=0.01)
    assert [s[0] for s in rendered.segments] == [t.speaker for t in SHORT_CALL]
    assert [s[3] for s in rendered.segments] == [t.text for t in SHORT_CALL]
    ends = [0.0] + [s[2] for s in rendered.segments]
    assert all(s[1] >= prev and s[2] > s[1] for s, prev in zip(rendered.segments, ends, strict=False))
    assert not list(rendered.path.parent.glob(".*.tmp"))


@needs_espeak
def test_agent_speaks_left_and_customer_right(rendered: audio.RenderedCall) -> None:
    x, sr = sf.read(rendered.path, dtype="float32")
    assert not np.allclose(x[:, 0], x[:, 1])
    for speaker, start, end, _ in rendered.segments:
        span = x[int(start * sr) : int(end * sr)]
        own, other = (0, 1) if speaker == "agent" else (1, 0)
        assert _rms(span[:, own]) > 5 * _rms(span[:, other]), speaker


@needs_espeak
def test_hold_music_follows_the_hold_announcement(rendered: audio.RenderedCall) -> None:
    x, sr = sf.read(rendered.path, dtype="float32")
    announce_end, resume = rendered.segments[2][2], rendered.segments[3][1]
    assert resume - announce_end >= 3.0
    hold = x[int((announce_end + 0.8) * sr) : int((resume - 0.5) * sr)]
    assert _rms(hold[:, 0]) > 3 * _rms(hold[:, 1])  # quiet music on the agent side only
    assert _rms(hold[:, 0]) < 0.5 * _rms(
        x[int(rendered.segments[0][1] * sr) : int(rendered.segments[0][2] * sr), 0]
    )


@needs_espeak
def test_band_limited_to_the_telephone_band(rendered: audio.RenderedCall) -> None:
    x, sr = sf.read(rendered.path, dtype="float32")
    spectrum = np.abs(np.fft.rfft(x[:, 0])) ** 2
    freqs = np.fft.rfftfreq(x.shape[0], 1 / sr)
    in_band = spectrum[(freqs > 300) & (freqs < 3400)].sum()
    assert spectrum[freqs < 150].sum() < 0.01 * in_band
    assert spectrum[freqs > 3800].sum() < 0.01 * in_band


@needs_espeak
def test_render_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    persona = make_persona(np.random.default_rng(0), datetime.date(1990, 1, 2), "F", "서울", "강남구")
    turns = call_script(np.random.default_rng(0), ["card_lost"], persona)[:6]
    a = render_call(turns, tmp_path / "a.wav", np.random.default_rng(7))
    b = render_call(turns, tmp_path / "b.wav", np.random.default_rng(7))
    assert a.segments == b.segments
    assert (tmp_path / "a.wav").read_bytes()[44:] == (tmp_path / "b.wav").read_bytes()[44:]


def test_render_refuses_without_espeak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio, "_ESPEAK", "espeak-ng-not-installed")
    assert not espeak_available()
    with pytest.raises(AudioRenderError, match="not installed"):
        render_call(SHORT_CALL, tmp_path / "x.wav", np.random.default_rng(0))
    assert not (tmp_path / "x.wav").exists()


def test_render_reports_a_failing_espeak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio, "_ESPEAK", "false")
    with pytest.raises(AudioRenderError, match="exit code"):
        render_call(SHORT_CALL, tmp_path / "x.wav", np.random.default_rng(0))


def test_render_refuses_a_sub_telephone_sample_rate(tmp_path: Path) -> None:
    with pytest.raises(AudioRenderError, match="sample_rate"):
        render_call(SHORT_CALL, tmp_path / "x.wav", np.random.default_rng(0), sample_rate=4000)


def test_numbers_are_read_digit_by_digit() -> None:
    said = audio._speakable("제 번호는 010-1234-5678이고 금리는 4.2%예요.")
    assert "공일공" in said and "일이삼사" in said and "오육칠팔" in said
    assert "점 이" in said and "퍼센트" in said and "%" not in said


# --- shipped recordings --------------------------------------------------------------------------------


def test_prerendered_calls_decode_to_two_distinct_channels() -> None:
    calls = prerendered_calls()
    assert len(calls) == 6
    assert len({tuple(c.intents) for c in calls}) == 6
    for call in calls:
        assert set(call.intents) <= INTENTS
        assert call.turns and call.turns[0].speaker == "agent"
        x, sr = _decode(call.audio)
        assert x.shape[0] == 2
        assert x.shape[1] / sr == pytest.approx(call.duration_s, abs=0.1)
        assert 20 <= call.duration_s <= 60
        assert not np.allclose(x[0], x[1], atol=1e-3)
        for speaker, start, end, _ in call.segments:
            span = x[:, int(start * sr) : int(end * sr)]
            own, other = (0, 1) if speaker == "agent" else (1, 0)
            assert _rms(span[own]) > 5 * _rms(span[other]), (call.audio.name, speaker, start)


def test_prerendered_assets_are_small_and_described() -> None:
    files = [p for p in audio.ASSETS.iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 3 * 1024 * 1024
    manifest = json.loads((audio.ASSETS / "calls.json").read_text(encoding="utf-8"))
    listed = {rec["audio"] for rec in manifest["calls"]}
    assert listed == {p.name for p in files if p.suffix == ".ogg"}
    for call in prerendered_calls():
        assert [t.text for t in call.turns] == [s[3] for s in call.segments]
        assert any(ch.isdigit() or ch in "공일이삼사오육칠팔구" for t in call.turns[2:5] for ch in t.text)
