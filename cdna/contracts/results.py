"""What each stage command reports when it finishes (`cdna --json STAGE …`): one typed model per stage.

The commands validate their JSON result against these models before printing it, and the nightly run parses
the stages' output with the same models, so the two cannot drift apart (issue 12). Extra keys are allowed:
a command may report more than the nightly summary reads.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FeaturesResult",
    "MineResult",
    "PrivacyScanResult",
    "RecommendResult",
    "RetrainResult",
    "STAGE_RESULTS",
    "StageResult",
    "TranscribeResult",
    "parse_stage_result",
]


class StageResult(BaseModel):
    """Common base: extra keys are kept, unknown stages parse to this."""

    model_config = ConfigDict(extra="allow")


class FailedInput(BaseModel):
    """One input a stage could not process."""

    model_config = ConfigDict(extra="allow")

    file: str
    reason: str
    message: str = ""


class TranscribeResult(StageResult):
    """`cdna transcribe`: files seen, done, skipped, without speech, audio time, RTF and failures."""

    files_seen: int = 0
    done: int = 0
    skipped: int = 0
    no_speech: list[str] = Field(default_factory=list)
    audio_s: float = 0.0
    rtf: float | None = None
    failed: list[FailedInput] = Field(default_factory=list)


class MineResult(StageResult):
    """`cdna mine`: masked PII by type and signals by kind."""

    pii_masked: dict[str, int] = Field(default_factory=dict)
    signals: dict[str, int] = Field(default_factory=dict)


class FeaturesResult(StageResult):
    """`cdna features materialize`: snapshot rows and the views written."""

    rows: int = 0
    views: dict[str, Any] = Field(default_factory=dict)


class RecommendResult(StageResult):
    """`cdna recommend --all`: customers scored, rows written and the model that scored them."""

    customers: int = 0
    rows: int = 0
    model_version: int | str | None = None
    suppressed: dict[str, int] = Field(default_factory=dict)  # policy rule -> offers held back (issue 16)


class RetrainResult(StageResult):
    """`cdna retrain`: whether it ran, the gate decision with reasons, the champion and holdout metrics."""

    ran: bool = False
    promoted: bool | None = None
    reasons: list[str] = Field(default_factory=list)
    champion: int | None = None
    metrics: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    triggers: list[dict[str, Any]] = Field(default_factory=list)


class PrivacyScanResult(StageResult):
    """`cdna privacy scan`: personal data found outside the raw zone, by type, and where (issue 14)."""

    findings: int = 0
    by_type: dict[str, int] = Field(default_factory=dict)
    files_read: dict[str, int] = Field(default_factory=dict)
    values_examined: int = 0
    places: list[dict[str, str]] = Field(default_factory=list)


STAGE_RESULTS: dict[str, type[StageResult]] = {
    "transcribe": TranscribeResult,
    "mine": MineResult,
    "features": FeaturesResult,
    "recommend": RecommendResult,
    "retrain": RetrainResult,
    "retrain-bootstrap": RetrainResult,
    "privacy": PrivacyScanResult,
}


def parse_stage_result(stage: str, text: str) -> StageResult | None:
    """A stage's JSON stdout as its typed result; None when it printed no JSON object (a crash)."""
    from pydantic import ValidationError

    model = STAGE_RESULTS.get(stage, StageResult)
    try:
        return model.model_validate_json(text)
    except ValidationError:
        return None
