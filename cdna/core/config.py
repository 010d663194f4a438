"""Typed configuration: `configs/default.yaml` plus an optional user file plus `CDNA_*` env overrides."""

from __future__ import annotations

import os
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cdna.core.errors import ConfigError

__all__ = [
    "AsrConfig",
    "Config",
    "FeaturesConfig",
    "IngestConfig",
    "Intent",
    "IntentTaxonomy",
    "MemoCategory",
    "MemoTaxonomy",
    "NlpConfig",
    "Product",
    "ProductCatalog",
    "RecommendConfig",
    "RetentionConfig",
    "ServeConfig",
    "WorldConfig",
    "configs_dir",
    "load_config",
    "load_intents",
    "load_memo_categories",
    "load_products",
    "load_yaml",
]

ENV_PREFIX = "CDNA_"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorldConfig(_Model):
    """Options of the synthetic bank generator.

    Attributes:
        customers: number of customers to generate.
        seed: random seed; the same seed gives byte-identical tables.
        end_date: last calendar day of history (Korea time).
        months: months of history before end_date.
        noise_share: share of customers with no life event.
        txn_per_month: mean transactions per active customer per month.
        calls_per_customer: mean calls per customer over the history.
        audio_calls: calls rendered to audio with --audio.
        chunk_customers: customers per vectorised chunk (part of determinism).
        workers: processes generating chunks in parallel (does not change the output).
    """

    customers: int = Field(2000, ge=1)
    seed: int = 7
    end_date: date = date(2025, 6, 30)
    months: int = Field(13, ge=1, le=60)
    noise_share: float = Field(0.35, ge=0.0, le=1.0)
    txn_per_month: float = Field(2.5, gt=0)
    calls_per_customer: float = Field(0.9, ge=0)
    audio_calls: int = Field(6, ge=0)
    chunk_customers: int = Field(20000, ge=100)
    workers: int = Field(2, ge=1)


class IngestConfig(_Model):
    """Structured-source import options.

    Attributes:
        column_maps: per table, target column -> source column or DuckDB SQL expression.
        column_map_files: named mapping files relative to configs/.
    """

    column_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    column_map_files: dict[str, str] = Field(default_factory=dict)


class AsrConfig(_Model):
    """Speech recognition options (see the transcription stage; ingest.asr.options.AsrOptions documents each)."""

    backend: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    model: str = "default"
    language: str = "ko"
    device: Literal["cpu", "cuda"] = "cpu"
    compute_type: str = "auto"
    beam_size: int = Field(2, ge=1)
    batch_size: int = Field(8, ge=1)
    vad: bool = True
    condition_on_previous_text: bool = False
    no_speech_threshold: float = 0.6
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    hotwords: list[str] = Field(default_factory=list)
    channel_roles: list[Literal["agent", "customer", "unknown"]] = Field(
        default_factory=lambda: ["agent", "customer"]  # type: ignore[arg-type]
    )
    max_duration_s: float = Field(3600, gt=0)
    engine: Literal["local", "ray"] = "local"
    workers: int = Field(2, ge=1)
    threads_per_worker: int = Field(1, ge=1)
    ray_address: str | None = None
    silence_dbfs: float = Field(-50.0, le=0)
    flush_every: int = Field(16, ge=1)


class NlpConfig(_Model):
    """Korean NLP options (see the mining stage, `nlp/`).

    Attributes:
        tokenizer: morpheme analyser for intent features.
        intent_backend: sklearn (seed-trained) or transformers (local encoder in intent_model).
        intent_model: local folder of a Hugging Face encoder for the transformers backend.
        intent_threshold: intents reported from this probability (the best one always is).
        max_intents: intents per call.
        complaint_threshold: complaint signals from this score.
        min_interest_score: memo interests from this confidence.
        purge_unmasked_transcripts: delete a day's transcripts once its signals are written.
    """

    tokenizer: Literal["kiwi", "mecab", "okt", "komoran"] = "kiwi"
    intent_backend: Literal["sklearn", "transformers"] = "sklearn"
    intent_model: str | None = None
    intent_threshold: float = Field(0.35, ge=0, le=1)
    max_intents: int = Field(2, ge=1)
    complaint_threshold: float = Field(0.5, ge=0, le=1)
    min_interest_score: float = Field(0.55, ge=0, le=1)
    purge_unmasked_transcripts: bool = False


class FeaturesConfig(_Model):
    """Feature store options (see features/).

    Attributes:
        ttl_days: events older than this before the as-of are ignored (transactions, signals, calls).
        web_ttl_days: the same for web/app events.
        decay_half_life_days: half-life of the exponential time decay of counts and scores.
        segments_k_min / segments_k_max: K-means k range searched by silhouette and elbow.
        silhouette_sample: rows sampled to score the silhouette on large banks.
        spend_categories_from: memo categories of spend: NLP memo signals, the config lexicon, or auto.
        web_page_categories: column id -> page_category value (other values count as `other`).
        memory_limit: DuckDB memory limit (it spills to disk beyond it).
        threads: DuckDB threads (null = all cores).
    """

    ttl_days: int = Field(365, ge=1)
    web_ttl_days: int = Field(180, ge=1)
    decay_half_life_days: float = Field(30, gt=0)
    segments_k_min: int = Field(2, ge=2)
    segments_k_max: int = Field(8, ge=2)
    silhouette_sample: int = Field(10000, ge=100)
    spend_categories_from: Literal["auto", "signals", "lexicon"] = "auto"
    web_page_categories: dict[str, str] = Field(default_factory=dict)
    memory_limit: str = "4GB"
    threads: int | None = Field(None, ge=1)


class RecommendConfig(_Model):
    """Recommender options (see recommend/).

    Attributes:
        horizon_days: a label is an open in (as_of, as_of + horizon].
        k: list length of MAP@k, NDCG@k, Recall@k, HitRate@k and of the served top-k.
        train_months: monthly as-of dates used for training.
        holdout_months: later monthly as-of dates held out for evaluation (never random).
        objective: LightGBM objective (binary with the product as a categorical feature, or lambdarank).
        n_estimators / learning_rate / num_leaves / min_child_samples: LightGBM parameters.
        negative_share: share of negative candidate rows kept for training (all positives are kept).
        threads: LightGBM threads (1 avoids OpenMP spin-waiting on small shared machines).
        seed: random seed of training.
        segment_column: snapshot column naming the segment (popularity baseline, per-segment gate).
        signal_views: feature views derived from calls and memos (left out by structured-only models).
        signal_columns: glob patterns of other columns derived from memo text (memo-category spend shares).
        primary_metric: metric the retrain gate compares.
        promote_margin: relative margin the challenger must beat the champion by (0.02 = +2%).
        segment_tolerance: largest relative drop of the primary metric allowed in any segment.
        min_segment_positives: segments with fewer holdout positives are not gated (too noisy).
        tracking_uri: MLflow tracking URI (null = sqlite:///LAKE/mlflow.db).
        model_name: registered model name.
        max_model_age_days: `retrain --if-needed` fires when the champion is older.
        drift_psi_threshold / drift_ks_threshold: per-feature PSI / KS statistic that counts as drift.
        drift_max_share: share of drifted features that fires a retrain.
        live_decay_tolerance: retrain when the live hit rate falls this far (relative) below holdout.
        web_page_products: web page category id -> products it is evidence for.
        memo_category_products: memo category id -> products its spending is evidence for.
    """

    horizon_days: int = Field(30, ge=1)
    k: int = Field(5, ge=1)
    train_months: int = Field(8, ge=1)
    holdout_months: int = Field(2, ge=1)
    objective: Literal["binary", "lambdarank"] = "binary"
    n_estimators: int = Field(150, ge=1)
    learning_rate: float = Field(0.1, gt=0)
    num_leaves: int = Field(15, ge=2)
    min_child_samples: int = Field(50, ge=1)
    negative_share: float = Field(0.25, gt=0, le=1)
    threads: int = Field(1, ge=1)
    seed: int = 7
    segment_column: str = "age_band"
    signal_views: list[str] = Field(default_factory=lambda: ["signals"])
    signal_columns: list[str] = Field(default_factory=lambda: ["spend_share_*"])
    primary_metric: str = "map@5"
    promote_margin: float = 0.0
    segment_tolerance: float = Field(0.10, ge=0)
    min_segment_positives: int = Field(20, ge=1)
    tracking_uri: str | None = None
    model_name: str = "cdna-recommender"
    max_model_age_days: int = Field(30, ge=1)
    drift_psi_threshold: float = Field(0.2, gt=0)
    drift_ks_threshold: float = Field(0.2, gt=0, le=1)
    drift_max_share: float = Field(0.1, ge=0, le=1)
    live_decay_tolerance: float = Field(0.3, ge=0, le=1)
    web_page_products: dict[str, list[str]] = Field(default_factory=dict)
    memo_category_products: dict[str, list[str]] = Field(default_factory=dict)


class ServeConfig(_Model):
    """Staff service options (see serve/).

    Attributes:
        host / port / workers: where uvicorn listens and how many worker processes it runs.
        rate_limit_per_minute: sustained requests per API key per minute (token bucket, per worker).
        rate_limit_burst: bucket size: requests a key may send at once before being limited.
        reload_interval_s: how often the champion alias, online store and batch scores are polled.
        max_k: largest `k` a client may ask for.
        audit: write the hash-chained access log (LAKE/audit/); off only for benchmarks of the floor.
    """

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    rate_limit_per_minute: int = Field(6000, ge=1)
    rate_limit_burst: int = Field(100, ge=1)
    reload_interval_s: float = Field(5.0, gt=0)
    max_k: int = Field(20, ge=1)
    audit: bool = True


class RetentionConfig(_Model):
    """How long personal data is kept, in days."""

    keep_raw_days: int = Field(90, ge=0)
    keep_transcripts_days: int = Field(30, ge=0)
    keep_runs_days: int = Field(365, ge=0)
    dry_run: bool = False


class Config(_Model):
    """The whole configuration, parsed once and passed down explicitly."""

    lake: Path = Path("./lake")
    timezone: str = "Asia/Seoul"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    world: WorldConfig = WorldConfig()
    ingest: IngestConfig = IngestConfig()
    asr: AsrConfig = AsrConfig()
    nlp: NlpConfig = NlpConfig()
    features: FeaturesConfig = FeaturesConfig()
    recommend: RecommendConfig = RecommendConfig()
    serve: ServeConfig = ServeConfig()
    retention: RetentionConfig = RetentionConfig()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. Asia/Seoul)") from exc
        return value


# ---------------------------------------------------------------- taxonomies


class Product(_Model):
    """One catalogue product with its eligibility rules."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    family: Literal["deposit", "loan", "card", "investment", "retirement", "fx"]
    description: str = ""
    min_age: int = Field(0, ge=0)
    max_age: int = Field(120, ge=0)
    requires_income: bool = False
    exclusive_with: list[str] = Field(default_factory=list)

    def eligible(self, age: int, income_band: str, held: set[str] | frozenset[str] = frozenset()) -> bool:
        """Whether a customer of this age and income band, holding `held`, may open this product."""
        if not self.min_age <= age <= self.max_age:
            return False
        if self.requires_income and income_band == "none":
            return False
        return not (set(self.exclusive_with) & set(held))


class ProductCatalog(_Model):
    """The product taxonomy of `configs/products.yaml`."""

    products: list[Product] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_and_closed(self) -> ProductCatalog:
        ids = [p.id for p in self.products]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate product ids {dupes}")
        for p in self.products:
            unknown = set(p.exclusive_with) - set(ids)
            if unknown:
                raise ValueError(f"product {p.id!r}: exclusive_with names unknown ids {sorted(unknown)}")
        return self

    @property
    def ids(self) -> list[str]:
        """Product ids in catalogue order."""
        return [p.id for p in self.products]

    def get(self, product_id: str) -> Product:
        """The product with this id, or a ConfigError naming the allowed ids."""
        for p in self.products:
            if p.id == product_id:
                return p
        raise ConfigError(
            f"product {product_id!r} is not in the catalogue",
            hint=f"add it to configs/products.yaml or use one of: {', '.join(self.ids)}",
        )


class Intent(_Model):
    """One call-center intent."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    products: list[str] = Field(default_factory=list)


class IntentTaxonomy(_Model):
    """The intent taxonomy of `configs/intents.yaml`."""

    intents: list[Intent] = Field(min_length=2)

    @property
    def ids(self) -> list[str]:
        """Intent ids in taxonomy order."""
        return [i.id for i in self.intents]


class MemoCategory(_Model):
    """One memo / merchant interest category with its lexicon."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    keywords: list[str] = Field(default_factory=list)


class MemoTaxonomy(_Model):
    """The memo categories of `configs/memo_categories.yaml`."""

    categories: list[MemoCategory] = Field(min_length=2)

    @property
    def ids(self) -> list[str]:
        """Category ids in taxonomy order."""
        return [c.id for c in self.categories]


# ---------------------------------------------------------------- loading


def configs_dir() -> Path:
    """The folder holding the shipped configs (repository `configs/` or the installed copy)."""
    return Path(str(resources.files("cdna.configs")))


def load_yaml(path: Path) -> Any:
    """Parse one YAML file, turning syntax errors into a ConfigError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}", hint="check the --config path") from exc
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """CDNA_LAKE=x -> {lake: x}; CDNA_ASR__DEVICE=cuda -> {asr: {device: cuda}}; values parsed as YAML."""
    out: dict[str, Any] = {}
    skip = {"CDNA_CONFIG"}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in skip:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        if path == ["lake"]:
            value = raw  # a path, never a YAML scalar
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def _format_validation(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        ctx = err.get("ctx") or {}
        if "expected" in ctx and str(ctx["expected"]) not in msg:
            msg += f" (allowed: {ctx['expected']})"
        lines.append(f"  {source}: key '{key}': {msg}; got {err.get('input')!r}")
    return "\n".join(lines)


def _validate(model: type[_Model], data: Any, source: str, allowed_top: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid configuration in {source}:\n{_format_validation(exc, source)}",
            hint=f"allowed top-level keys: {allowed_top}",
        ) from exc


def load_config(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Config:
    """Load defaults, then `path` (or $CDNA_CONFIG), then CDNA_* env overrides, into a Config."""
    environ = dict(os.environ) if environ is None else environ
    default_path = configs_dir() / "default.yaml"
    data = load_yaml(default_path)
    sources = [str(default_path)]
    user = path or environ.get("CDNA_CONFIG")
    if user:
        user_path = Path(user)
        user_data = load_yaml(user_path)
        if not isinstance(user_data, dict):
            raise ConfigError(f"{user_path}: the top level must be a mapping of keys to values")
        data = _deep_merge(data, user_data)
        sources.append(str(user_path))
    env = _env_overrides(environ)
    if env:
        data = _deep_merge(data, env)
        sources.append("CDNA_* environment variables")
    allowed = ", ".join(Config.model_fields)
    return _validate(Config, data, " + ".join(sources), allowed)


def _load_taxonomy(model: type[_Model], name: str, path: Path | None) -> Any:
    path = path or configs_dir() / name
    data = load_yaml(path)
    return _validate(model, data, str(path), ", ".join(model.model_fields))


def load_products(path: Path | None = None) -> ProductCatalog:
    """Load and check the product catalogue."""
    return _load_taxonomy(ProductCatalog, "products.yaml", path)  # type: ignore[no-any-return]


def load_intents(path: Path | None = None) -> IntentTaxonomy:
    """Load and check the intent taxonomy."""
    return _load_taxonomy(IntentTaxonomy, "intents.yaml", path)  # type: ignore[no-any-return]


def load_memo_categories(path: Path | None = None) -> MemoTaxonomy:
    """Load and check the memo category taxonomy."""
    return _load_taxonomy(MemoTaxonomy, "memo_categories.yaml", path)  # type: ignore[no-any-return]
