"""Typed configuration: `configs/default.yaml` plus an optional user file plus `CDNA_*` env overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource

from cdna.core.errors import ConfigError

__all__ = [
    "DEFAULT_PURPOSES",
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
    "PolicyConfig",
    "ProductCatalog",
    "RecommendConfig",
    "RetentionConfig",
    "ServeConfig",
    "TriggersConfig",
    "DepositTrigger",
    "InquiryTrigger",
    "PageViewTrigger",
    "WorldConfig",
    "CustomerType",
    "CustomerTypes",
    "configs_dir",
    "load_decoder_terms",
    "load_config",
    "load_customer_types",
    "load_intents",
    "load_memo_categories",
    "load_policy",
    "load_triggers",
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
        max_line_bytes: a CSV line longer than this is rejected as a row, unread (issue 15).
    """

    column_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    column_map_files: dict[str, str] = Field(default_factory=dict)
    max_line_bytes: int = Field(1 << 20, ge=1024)


class AsrConfig(_Model):
    """Speech recognition options (see the transcription stage; ingest.asr.options.AsrOptions documents each)."""

    backend: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    model: str = "default"
    language: str = "ko"
    device: Literal["cpu", "cuda"] = "cpu"
    compute_type: str = "auto"
    beam_size: int = Field(5, ge=1)
    temperatures: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    batch_size: int = Field(8, ge=1)
    vad: bool = True
    vad_threshold: float = Field(0.5, gt=0, lt=1)
    vad_min_speech_ms: int = Field(0, ge=0)
    vad_min_silence_ms: int = Field(2000, ge=0)
    vad_speech_pad_ms: int = Field(400, ge=0)
    vad_window_s: float = Field(10.0, ge=0)
    condition_on_previous_text: bool = False
    no_speech_threshold: float = 0.6
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    vocabulary: Literal["off", "hotwords", "prompt"] = "off"
    hotwords: list[str] | None = None  # None = `decoder:` of configs/banking_terms.yaml
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
        min_avg_logprob: transcript segments whose decoder avg_logprob is below this floor are not mined
            (garbled or hallucinated; counted as segments_low_confidence in the run record).
        purge_unmasked_transcripts: delete a day's transcripts once its signals are written.
    """

    tokenizer: Literal["kiwi", "mecab", "okt", "komoran"] = "kiwi"
    intent_backend: Literal["sklearn", "transformers"] = "sklearn"
    intent_model: str | None = None
    intent_threshold: float = Field(0.35, ge=0, le=1)
    max_intents: int = Field(2, ge=1)
    complaint_threshold: float = Field(0.5, ge=0, le=1)
    min_interest_score: float = Field(0.55, ge=0, le=1)
    min_avg_logprob: float = Field(-0.8, le=0)
    purge_unmasked_transcripts: bool = False


class FeaturesConfig(_Model):
    """Feature store options (see features/).

    Attributes:
        ttl_days: events older than this before the as-of are ignored (transactions, signals, calls).
        web_ttl_days: the same for web/app events.
        decay_half_life_days: half-life of the exponential time decay of counts and scores.
        segments_k_min / segments_k_max: K-means k range whose elbow and silhouette are reported.
        segments_k: the k used (the customer types; 4 as in the retail study) unless segments_choose_k.
        segments_choose_k: use the k with the best silhouette instead of segments_k.
        types_new_max_txns: customers with at most this many transactions (365 days) are "new": their
            type is predicted from demographics, web visits, calls and memos (issue 17).
        types_probe_days: a customer who joined during the history is observed this many days after
            joining to test the new-customer type model.
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
    segments_k_max: int = Field(10, ge=2)
    segments_k: int = Field(4, ge=2)
    segments_choose_k: bool = False
    types_new_max_txns: int = Field(3, ge=0)
    types_probe_days: int = Field(14, ge=1)
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
        outcome_positives / outcome_negatives: offer outcomes that become positive / negative training
            rows (conversions within the horizon are always positive; [] ignores declines) (issue 17).
        min_live_outcomes / live_min_acceptance: retrain when at least this many of the champion's offers
            were answered and the accepted share is below the floor.
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
    outcome_positives: list[str] = Field(default_factory=lambda: ["accepted"])
    outcome_negatives: list[str] = Field(default_factory=lambda: ["declined", "not_interested"])
    min_live_outcomes: int = Field(30, ge=1)
    live_min_acceptance: float = Field(0.05, ge=0, le=1)
    web_page_products: dict[str, list[str]] = Field(default_factory=dict)
    memo_category_products: dict[str, list[str]] = Field(default_factory=dict)


# Why staff may look a customer up (X-Purpose): the service's default list, also the config's default.
DEFAULT_PURPOSES = ("counseling", "sales", "complaint", "review", "compliance", "campaign", "app")


class ServeConfig(_Model):
    """Staff service options (see serve/).

    Attributes:
        host / port / workers: where uvicorn listens and how many worker processes it runs.
        rate_limit_per_minute: sustained requests per API key per minute (token bucket, per worker).
        rate_limit_burst: bucket size: requests a key may send at once before being limited.
        reload_interval_s: how often the champion alias, online store and batch scores are polled.
        max_k: largest `k` a client may ask for.
        audit: write the hash-chained access log (LAKE/audit/); off only for benchmarks of the floor.
        audit_key_file / audit_key_env: the key that signs audit checkpoints, kept OUTSIDE the lake (the
            variable wins; the file is created, owner-only, on the service's first start when missing).
        audit_checkpoint_every: rows between signed checkpoints (one is also signed at shutdown).
        audit_timeout_s: how long a lookup waits for its audit row before it is refused (503, fail closed).
        audit_queue: audit rows that may wait for the writer before lookups are refused.
        purposes: allowed values of the X-Purpose header that every customer lookup must send.
        contact_search_roles: key roles that may search customers by phone tail or name initials (answers
            are masked and audited); others search by customer id prefix only.
        online_store: where the service reads (and events write) online vectors and top-k: sqlite (embedded,
            one host) or redis (many workers or hosts; each new materialisation is copied there).
        redis_url: the Redis of `online_store: redis` (redis://host:port/db).
    """

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    rate_limit_per_minute: int = Field(6000, ge=1)
    rate_limit_burst: int = Field(100, ge=1)
    reload_interval_s: float = Field(5.0, gt=0)
    max_k: int = Field(20, ge=1)
    audit: bool = True
    audit_key_file: Path | None = Path("~/.config/cdna/audit.key")
    audit_key_env: str = "CDNA_AUDIT_KEY"
    audit_checkpoint_every: int = Field(1000, ge=1)
    audit_timeout_s: float = Field(2.0, gt=0)
    audit_queue: int = Field(10000, ge=1)
    purposes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PURPOSES),
        min_length=1,
    )
    # pydantic copies a mutable default per instance
    contact_search_roles: list[Literal["staff", "ml", "admin"]] = ["staff", "ml", "admin"]  # noqa: RUF012
    online_store: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"


class LinkConfig(_Model):
    """Pseudonymised partner linkage (`cdna link`, issue #14).

    Attributes:
        key_file / key_env: the HMAC-SHA256 linkage key both parties received, kept OUTSIDE the lake
            (the variable wins).
        id_column: the customers column both parties hold, pseudonymised with the key.
        k_anonymity: the smallest number of customers a reported cell may count.
    """

    key_file: Path | None = None
    key_env: str = "CDNA_LINK_KEY"
    id_column: str = "customer_id"
    k_anonymity: int = Field(5, ge=2)


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
    link: LinkConfig = LinkConfig()
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

    def category_of(self, text: str) -> str | None:
        """The memo category of a (memo + merchant) text: the FIRST category in taxonomy order with a keyword
        in it wins, so the yaml's order is the tie-break (the one copy of this rule: spend shares and reasons)."""
        low = text.lower()
        return next((c.id for c in self.categories if any(k.lower() in low for k in c.keywords)), None)


# ---------------------------------------------------------------- decision policy (issue #16)

RiskProfile = Literal["stable", "conservative", "moderate", "active", "aggressive"]
RISK_PROFILES: tuple[str, ...] = ("stable", "conservative", "moderate", "active", "aggressive")


class ChannelCap(_Model):
    """채널별 권유 한도: 한 고객에게 `period_days`일 동안 이 채널로 보낼 수 있는 판매 권유 수."""

    max_offers: int = Field(ge=0, description="기간 내 최대 권유 횟수 (0 = 이 채널로 권유 금지)")
    period_days: int = Field(ge=1, description="한도를 세는 기간 (일)")


class ContactPolicy(_Model):
    """접촉 정책: 불만·사기 신고·카드 분실 직후에는 팔지 않고, 채널별 권유 횟수를 제한한다."""

    quiet_days: int = Field(
        30, ge=0, description="민원·금융사기 신고·카드 분실 통화 후 판매 권유를 멈추는 기간 (일)"
    )
    quiet_intents: list[str] = Field(
        default_factory=lambda: ["complaint", "fraud_report", "card_lost"],
        description="이 의도의 통화가 있으면 quiet_days 동안 판매 권유 금지",
    )
    complaint_signals: bool = Field(
        True, description="NLP가 감지한 불만 신호(kind=complaint)도 같은 규칙 적용"
    )
    channel_caps: dict[str, ChannelCap] = Field(
        default_factory=dict, description="채널 → 기간당 권유 한도 (sms, app_push, call, branch …)"
    )


class ConsentPolicy(_Model):
    """마케팅 동의: 수신을 거부한 고객에게는 서비스 안내만 하고 판매 권유는 하지 않는다."""

    enabled: bool = Field(True, description="마케팅 수신 동의가 없는 고객의 판매 권유 차단")
    missing_means_opt_out: bool = Field(
        True, description="동의 여부를 모르는 고객(값 없음)은 거부로 본다 (보수적 기본값)"
    )


class SuitabilityPolicy(_Model):
    """적합성 원칙 (금융소비자보호법 제17조): 투자성 상품은 투자성향이 허용하는 고객에게만 권유한다."""

    enabled: bool = True
    min_profile: dict[str, RiskProfile] = Field(
        default_factory=dict,
        description="상품 id → 권유 가능한 최소 투자성향 (stable < conservative < moderate < active < aggressive)",
    )
    unassessed_allowed: bool = Field(
        False, description="투자성향 진단을 받지 않은 고객에게 투자성 상품 권유 허용 여부 (법상 불가: false)"
    )


class ReasonHygiene(_Model):
    """추천 사유 위생: 상품 가입을 뒷받침하지 않는 증거(불만, 장애, 분실, 사기 신고)는 사유로 쓰지 않는다."""

    never_cite_intents: list[str] = Field(
        default_factory=lambda: ["complaint", "banking_outage", "card_lost", "fraud_report"],
        description="사유로 인용하지 않는 통화 의도 (점수에는 반영될 수 있음)",
    )
    never_cite_features: list[str] = Field(
        default_factory=lambda: ["complaint_score", "complaint_count_90d", "complaint_days_since"],
        description="사유로 인용하지 않는 피처",
    )
    intent_must_support_product: bool = Field(
        True, description="통화 의도는 그 의도가 가리키는 상품(configs/intents.yaml products)의 사유로만 인용"
    )


class PolicyConfig(_Model):
    """The decision policy of `configs/policy.yaml`: rules applied after scoring, batch and online alike.

    Attributes:
        contact / consent / suitability / reason_hygiene: the rule groups (Korean descriptions per key).
        eligibility: apply the catalogue's age, income and exclusivity rules (configs/products.yaml).
        already_held: never offer a product the customer holds.
    """

    contact: ContactPolicy = ContactPolicy()
    consent: ConsentPolicy = ConsentPolicy()
    suitability: SuitabilityPolicy = SuitabilityPolicy()
    reason_hygiene: ReasonHygiene = ReasonHygiene()
    eligibility: bool = Field(True, description="상품 가입 조건(나이·소득·중복 불가) 적용")
    already_held: bool = Field(True, description="이미 보유한 상품은 추천하지 않음")


class _Trigger(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="트리거 id (리드에 기록)")
    name: str = Field(description="영업 기회 목록에 보이는 이름")
    expires_days: int = Field(14, ge=1, description="리드가 열려 있는 기간 (일); 지나면 자동 종료")


class PageViewTrigger(_Trigger):
    """같은 페이지를 기간 안에 여러 번 본 고객 (예: 7일 안에 주택담보대출 페이지 3회)."""

    kind: Literal["page_views"]
    page_category: str = Field(description="web_events.page_category 값 (예: 주택담보대출)")
    min_count: int = Field(3, ge=1, description="최소 조회 수")
    window_days: int = Field(7, ge=1, description="조회 수를 세는 기간 (일)")
    product: str = Field(description="제안할 상품 id")


class DepositTrigger(_Trigger):
    """고액 입금 (예: 3천만 원 이상): 예치·투자 상담 기회."""

    kind: Literal["deposit"]
    min_amount: float = Field(30_000_000, gt=0, description="최소 입금액 (원)")
    product: str = Field(description="제안할 상품 id")


class InquiryTrigger(_Trigger):
    """상품 문의 통화 후 며칠 안에 가입이 없는 고객: 후속 상담 기회."""

    kind: Literal["inquiry_no_open"]
    intents: list[str] = Field(min_length=1, description="상품 문의 의도 id (configs/intents.yaml)")
    days: int = Field(3, ge=1, description="문의 후 가입을 기다리는 기간 (일)")


Trigger = Annotated[PageViewTrigger | DepositTrigger | InquiryTrigger, Field(discriminator="kind")]


class TriggersConfig(_Model):
    """Event-based lead triggers of `configs/triggers.yaml` (issue #16)."""

    triggers: list[Trigger] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> TriggersConfig:
        ids = [t.id for t in self.triggers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate trigger ids {dupes}")
        return self


# ---------------------------------------------------------------- customer types (issue 17)


class CustomerType(_Model):
    """One archetype of `configs/customer_types.yaml`: its Korean name and where it sits in RFM.

    `recency`, `frequency`, `monetary` are the archetype's centre in standard deviations from the bank's
    mean of log R, F, M (recency: positive = long since the last transaction). `min_recency_days`: the archetype
    only names a cluster whose mean recency is at least this (an "at risk" name needs inactive customers).
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    recency: float
    frequency: float
    monetary: float
    min_recency_days: float = Field(0, ge=0)


class CustomerTypes(_Model):
    """The customer type archetypes; clusters are matched to them one to one."""

    types: list[CustomerType] = Field(min_length=2)


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


def load_decoder_terms(path: Path | None = None) -> list[str]:
    """The `decoder:` list of configs/banking_terms.yaml: product and procedure names primed into Whisper
    (asr.vocabulary) and, as prompt echoes, dropped before mining (issue 13)."""
    path = path or configs_dir() / "banking_terms.yaml"
    data = load_yaml(path)
    terms = data.get("decoder") if isinstance(data, dict) else None
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise ConfigError(f"{path}: expected a list `decoder: [term, …]`", hint="or set asr.hotwords")
    return [str(t) for t in terms]


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class _EnvSource(EnvSettingsSource):
    """pydantic-settings' CDNA_* parser (prefix, `__` nesting) over a given environment mapping."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = {k.lower(): v for k, v in environ.items()}
        fields: dict[str, Any] = {
            name: (
                dict[str, Any] | None
                if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)
                else Any,
                None,
            )
            for name, f in Config.model_fields.items()
        }
        settings = create_model("_CdnaEnv", __base__=BaseSettings, **fields)
        super().__init__(settings, case_sensitive=False, env_prefix=ENV_PREFIX, env_nested_delimiter="__")

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._environ


def _parse_leaves(node: Any, path: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        return {k: _parse_leaves(v, (*path, k)) for k, v in node.items()}
    if path == ("lake",) or not isinstance(node, str) or not node.strip():
        return node  # a lake path is never a YAML scalar
    try:
        return yaml.safe_load(node)
    except yaml.YAMLError:
        return node


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """CDNA_LAKE=x -> {lake: x}; CDNA_ASR__DEVICE=cuda -> {asr: {device: cuda}}; values parsed as YAML."""
    secrets = {"CDNA_CONFIG", "CDNA_AUDIT_KEY", "CDNA_LINK_KEY"}  # not config keys
    env = {k: v for k, v in environ.items() if k.upper() not in secrets}
    unknown = sorted(
        k
        for k in env
        if k.upper().startswith(ENV_PREFIX)
        and k[len(ENV_PREFIX) :].lower().split("__")[0] not in Config.model_fields
    )
    out: dict[str, Any] = _parse_leaves(_EnvSource(env)())
    for name in unknown:  # kept so validation names the unknown key instead of ignoring a typo
        out[name[len(ENV_PREFIX) :].lower()] = env[name]
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


def _section_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, list[str]] | None:
    """(dotted section, its allowed keys) for the section holding the key at `loc` (issue 18: a misspelt
    `asr:` key listed the top-level keys instead of the `asr` ones)."""
    current: Any = model
    for part in loc[:-1]:
        field = getattr(current, "model_fields", {}).get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        current = annotation
    if not loc[:-1]:
        return None
    return ".".join(str(p) for p in loc[:-1]), list(current.model_fields)


def _validate(model: type[_Model], data: Any, source: str, allowed_top: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        hint = f"allowed top-level keys: {allowed_top}"
        first = exc.errors()[0] if exc.errors() else None
        if first is not None and first["type"] == "extra_forbidden":
            section = _section_keys(model, tuple(first["loc"]))
            if section is not None:
                hint = f"allowed keys in `{section[0]}`: {', '.join(section[1])}"
        raise ConfigError(
            f"invalid configuration in {source}:\n{_format_validation(exc, source)}", hint=hint
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


def load_policy(path: Path | None = None) -> PolicyConfig:
    """Load and check the decision policy (`configs/policy.yaml`)."""
    return _load_taxonomy(PolicyConfig, "policy.yaml", path)  # type: ignore[no-any-return]


def load_customer_types(path: Path | None = None) -> CustomerTypes:
    """Load and check the customer type archetypes (`configs/customer_types.yaml`)."""
    return _load_taxonomy(CustomerTypes, "customer_types.yaml", path)  # type: ignore[no-any-return]


def load_triggers(path: Path | None = None) -> TriggersConfig:
    """Load and check the lead triggers (`configs/triggers.yaml`)."""
    return _load_taxonomy(TriggersConfig, "triggers.yaml", path)  # type: ignore[no-any-return]
