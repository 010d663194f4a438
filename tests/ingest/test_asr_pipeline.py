"""Pure steps: speaker roles, the hallucination filter, the segments table, packing speech across channels."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pytest

from cdna.contracts.schemas import TRANSCRIPTS, conform
from cdna.ingest.asr.audio import AudioError, DecodedAudio
from cdna.ingest.asr.backends import PackedSpeech, RawSegment, _Clip
from cdna.ingest.asr.options import PIPELINE_VERSION, AsrOptions
from cdna.ingest.asr.pipeline import CallJob, check_not_silent, keep_segment, segments_table, speaker_roles


def test_speaker_roles_follow_layout_and_config() -> None:
    roles = ("agent", "customer")
    assert speaker_roles(2, "stereo_agent_left", roles) == ["agent", "customer"]
    assert speaker_roles(2, "auto", roles) == ["agent", "customer"]
    assert speaker_roles(2, "stereo_agent_right", roles) == ["customer", "agent"]
    assert speaker_roles(1, "stereo_agent_left", roles) == ["unknown"]
    assert speaker_roles(2, "mono", roles) == ["unknown", "unknown"]
    assert speaker_roles(2, "auto", ("customer", "agent")) == ["customer", "agent"]


def _seg(
    text: str = "주택담보대출 금리 문의드려요", nsp: float = 0.1, lp: float = -0.3, cr: float = 1.2
) -> RawSegment:
    return RawSegment(1.0, 2.5, text, lp, nsp, cr)


def test_keep_segment_drops_silence_guesses_and_loops() -> None:
    o = AsrOptions(hotwords=("주택담보대출", "IRP", "ISA"))
    assert keep_segment(_seg(), o)
    assert not keep_segment(_seg(" "), o)
    assert not keep_segment(_seg(nsp=0.9, lp=-1.5), o)  # confident "no speech" and a weak decode
    assert keep_segment(_seg(nsp=0.9, lp=-0.2), o)  # confident text despite a high no-speech guess
    assert not keep_segment(_seg("1,000,000,000,000,000,000", cr=24.8), o)  # a repetition loop
    assert not keep_segment(_seg(" 주택담보대출."), o)  # the hotword prompt echoed on noise
    assert not keep_segment(_seg("IRP, ISA"), o)
    assert keep_segment(_seg("주택담보대출 갈아타려고요"), o)
    assert keep_segment(_seg(" 주택담보대출."), o.with_(hotwords=()))


def test_segments_table_fits_the_contract_in_channel_then_time_order() -> None:
    started = datetime(2025, 6, 29, 16, 30, tzinfo=UTC)
    job = CallJob("CL1", "/x/CL1.wav", date(2025, 6, 30), "C0001", started, "stereo_agent_left")
    per_channel = [
        [
            RawSegment(5.0, 6.0, " 네 고객님 ", -0.2, 0.01, 1.0),
            RawSegment(0.5, 2.0, "새봄은행입니다", -0.1, 0.02, 1.0),
        ],
        [RawSegment(2.5, 4.0, "체크카드 분실 신고요", -0.3, 0.05, 1.1)],
    ]
    table = segments_table(job, per_channel, ["agent", "customer"], "whisper-base-ct2/faster-whisper")
    assert table.schema.equals(TRANSCRIPTS.schema)
    conform(table, TRANSCRIPTS)
    rows = table.to_pylist()
    assert [(r["channel"], r["segment_index"], r["speaker"], r["text"]) for r in rows] == [
        (0, 0, "agent", "새봄은행입니다"),
        (0, 1, "agent", "네 고객님"),
        (1, 0, "customer", "체크카드 분실 신고요"),
    ]
    assert {r["pipeline_version"] for r in rows} == {PIPELINE_VERSION}
    assert rows[0]["started_at"] == started and rows[0]["customer_id"] == "C0001"
    assert segments_table(job, [[], []], ["agent", "customer"], "m").num_rows == 0


def test_silent_recording_is_refused_before_decoding() -> None:
    quiet = DecodedAudio((np.full(16000 * 60, 1e-4, np.float32),), 8000, "pcm_s16le", 60.0)
    with pytest.raises(AudioError) as err:
        check_not_silent(quiet, "/calls/hold.wav", -50)
    assert err.value.reason == "silent" and "/calls/hold.wav" in str(err.value)
    loud = DecodedAudio((np.full(16000, 0.3, np.float32),), 8000, "pcm_s16le", 1.0)
    check_not_silent(loud, "ok.wav", -50)


def test_packed_speech_maps_segments_back_to_their_channel_time() -> None:
    # channel 0 speech at 1.0-3.0 s and 10.0-12.0 s, channel 1 speech at 4.0-7.0 s, packed back to back
    clips = (
        _Clip(0.0, 4.0, 0, ((0.0, 1.0, 2.0), (2.0, 10.0, 2.0))),
        _Clip(4.0, 7.0, 1, ((4.0, 4.0, 3.0),)),
    )
    packed = PackedSpeech(np.zeros(7 * 16000, np.float32), clips)
    assert packed.restore(0.0, 2.0) == (0, 1.0, 3.0)
    assert packed.restore(2.0, 4.0) == (0, 10.0, 12.0)
    assert packed.restore(1.9, 3.0) == (0, 10.0, 11.0)  # a start at a span's end belongs to the next span
    assert packed.restore(4.5, 6.0) == (1, 4.5, 6.0)
    assert packed.restore(5.0, 9.0) == (1, 5.0, 7.0)  # clipped to its clip


def test_options_from_config_take_overrides_and_resolve_compute_type() -> None:
    from cdna.core.config import load_config

    opts = AsrOptions.from_config(load_config(environ={}).asr, workers=3, device=None)
    assert opts.workers == 3 and opts.device == "cpu" and opts.language == "ko"
    assert opts.resolved_compute_type == "int8"
    assert opts.with_(device="cuda").resolved_compute_type == "float16"
    assert "주택담보대출" in opts.hotwords and not opts.condition_on_previous_text
    assert pa.types.is_string(TRANSCRIPTS.schema.field("speaker").type)


def test_words_of_a_chunk_become_one_row_per_speech_span() -> None:
    from types import SimpleNamespace as W

    clips = (_Clip(0.0, 4.0, 0, ((0.0, 1.0, 2.0), (2.0, 10.0, 2.0))), _Clip(4.0, 7.0, 1, ((4.0, 4.0, 3.0),)))
    packed = PackedSpeech(np.zeros(7 * 16000, np.float32), clips)
    words = [
        W(start=0.1, end=0.8, word=" 네"),
        W(start=0.9, end=1.9, word=" 고객님"),
        W(start=1.95, end=2.6, word=" 대출"),
        W(start=2.6, end=3.5, word=" 금리는요"),
    ]
    chunk = W(seek=0, start=0.1, end=3.5, text=" 네 고객님 대출 금리는요", words=words)
    assert packed.split_words(chunk) == [(0, 1.1, 2.9, " 네 고객님"), (0, 10.0, 11.5, " 대출 금리는요")]
    # a word placed slightly before its chunk still belongs to that chunk's channel
    late = W(seek=400, start=3.95, end=5.0, text=" 해지요", words=[W(start=3.95, end=5.0, word=" 해지요")])
    assert packed.split_words(late) == [(1, 4.0, 5.0, " 해지요")]
