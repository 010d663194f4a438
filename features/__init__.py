"""Feature store stage: feature views, point-in-time snapshots, segments, offline and online stores.

Modules, one job each:
    definitions  the customer entity and the feature views as data (a view's hash is its version)
    sources      finds and checks the lake's source files; counted skips; memo categories of spend
    snapshot     one DuckDB query joining every view to (customer_id, as_of) rows — snapshots, training sets
    store        offline store layout (LAKE/snapshots, LAKE/features/<view>/date=D), analyst SQL, materialise
    segments     RFM K-means (k by silhouette, elbow reported) with profile-based names
    report       the HTML segment report (matplotlib plots as base64 PNG)
    online       SQLite online store with atomic swap (`OnlineStore` is the interface a Redis backend implements)

Views (Korean names): 고객 프로필 `profile`, 거래 (RFM) `transactions`, 보유 상품 `holdings`, 웹/앱 행동 `web`,
상담 이력 `calls`, 상담·적요 신호 `signals`, plus row-wise derived features (보유 상품 수, 이탈 위험 …) and
the `segments` of the latest materialisation.

Spend share per memo category uses the NLP stage's memo-interest signals (source "memo", source_id = txn_id)
when the lake has any; otherwise (e.g. before `cdna mine` has run, or on foreign data) it falls back to the
keyword lexicon of configs/memo_categories.yaml, matched on memo + merchant. The snapshot's lineage records
which was used (`notes.transactions`); `features.spend_categories_from` forces one. Salary detection uses the
same category (급여) on inflows.
"""
