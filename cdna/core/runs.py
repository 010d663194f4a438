"""Run records for people: `cdna runs list|show` and the nightly HTML report."""

from __future__ import annotations

import json
from typing import Any

from cdna.core.lake import Lake
from cdna.core.report import figure, render_page

__all__ = ["flatten", "list_runs", "load_run", "render_night_html"]


def list_runs(lake: Lake) -> list[dict[str, Any]]:
    """Every JSON run record under LAKE/_runs/, newest first, with its file name."""
    out = []
    if lake.runs.is_dir():
        for path in lake.runs.glob("*.json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            data["_file"] = path.name
            out.append(data)
    out.sort(key=lambda d: str(d.get("started_at", "")), reverse=True)
    return out


def load_run(lake: Lake, ref: str) -> dict[str, Any] | None:
    """A run record by run id, file name, or nightly date (YYYY-MM-DD)."""
    for data in list_runs(lake):
        if ref in (data.get("run_id"), data["_file"], data["_file"].removesuffix(".json"), data.get("day")):
            return data
    return None


def flatten(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Nested dicts as (dotted key, short text) rows, for tables."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict) and depth < 4:
        for k, v in value.items():
            rows.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k), depth + 1))
    elif isinstance(value, list):
        if value and all(isinstance(v, (int, float, str)) for v in value) and len(value) <= 12:
            rows.append((prefix, ", ".join(str(v) for v in value)))
        else:
            rows.append((prefix, f"{len(value)} item(s)"))
    else:
        text = f"{value:,.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        rows.append((prefix, text[:200]))
    return rows


_STAGE_KO = {
    "transcribe": "녹취 전사",
    "mine": "텍스트 분석 (개인정보 마스킹)",
    "features": "피처 갱신",
    "recommend": "추천 산출",
    "retrain": "재학습 점검",
    "retrain-bootstrap": "첫 모델 학습",
    "privacy": "개인정보 잔존 점검",
}
_STATUS = {"ok": "정상", "partial": "일부 실패", "failed": "실패", "running": "진행 중"}
_PURGE_KO = {"audio": "녹음 파일 폴더", "transcripts": "전사 원문 폴더", "runs": "실행 로그"}
_SIGNAL_KO = {"intent": "상담 의도", "interest": "관심사", "complaint": "불만"}
_PII_KO = {
    "RRN": "주민등록번호",
    "PHONE": "전화번호",
    "CARD": "카드번호",
    "ACCOUNT": "계좌번호",
    "EMAIL": "이메일",
    "NAME": "이름",
    "ADDRESS": "주소",
}


def _durations_png(stages: list[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cdna.core.report import korean_font

    korean_font()
    names = [_STAGE_KO.get(s["name"], s["name"]) for s in stages]
    secs = [s["wall_s"] for s in stages]
    colors = {"ok": "#2e7d32", "partial": "#f9a825", "failed": "#c62828"}
    fig, ax = plt.subplots(figsize=(7, 0.4 + 0.32 * max(len(names), 1)))
    ax.barh(names[::-1], secs[::-1], color=[colors.get(s["status"], "#777") for s in stages][::-1])
    ax.set_xlabel("소요 시간 (초)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return figure(fig, dpi=100)


def _count(value: Any) -> int:
    """A count given as a number or as the list of what was counted (no-speech recordings are a list)."""
    return len(value) if isinstance(value, list | tuple) else int(value or 0)


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def _retrain_view(summary: dict[str, Any]) -> dict[str, Any] | None:
    """The retrain decision in words: what was decided and why (issue 18: it hid as "3 item(s)")."""
    r = summary.get("retrain")
    if not r:
        return None
    if not r.get("ran"):
        verdict = "재학습하지 않음 — 점검한 조건(모델 나이, 피처 분포 변화, 실적 저하)이 모두 기준 안쪽"
    elif r.get("promoted"):
        verdict = f"새 모델을 챔피언으로 승격 (버전 {r.get('champion')})"
    else:
        verdict = f"새 모델을 학습했지만 기준에 못 미쳐 기존 챔피언 유지 (버전 {r.get('champion')})"
    return {"verdict": verdict, "reasons": [str(x) for x in r.get("reasons") or []], "map5": r.get("map@5")}


def _attention(data: dict[str, Any], summary: dict[str, Any], stages: list[dict[str, Any]]) -> list[str]:
    items = []
    leaks = bool((summary.get("privacy_scan") or {}).get("findings"))
    for s in stages:
        if s["status"] == "failed" and s.get("name") == "privacy" and leaks:
            continue  # said below with the places (issue 14); no later stage was skipped for it
        if s["status"] == "failed":
            items.append(f"{s['label']} 단계가 실패해 그 뒤 단계는 실행되지 않았습니다. 로그: {s['log']}")
        elif s["status"] == "partial":
            items.append(
                f"{s['label']} 단계에서 일부 입력이 실패했습니다 ({len(s['failures'])}건, 아래 목록)."
            )
    failed_files = summary.get("files_failed") or []
    if failed_files:
        items.append(f"전사하지 못한 녹음 파일 {len(failed_files):,}건이 있습니다.")
    r = summary.get("retrain") or {}
    if r.get("ran") and r.get("promoted"):
        items.append(
            f"새 챔피언(버전 {r.get('champion')})이 승격됐습니다. 추천 점수가 새 모델로 다시 계산됐는지 확인하세요."
        )
    drift = summary.get("feature_drift")
    if drift:
        items.append(f"피처 분포 변화 감지: {drift}")
    scan = summary.get("privacy_scan") or {}
    if scan.get("findings"):
        # Issue 14: personal data outside the raw zone; places only, the excerpts are masked.
        places = "; ".join(str(p) for p in scan.get("places", [])[:5])
        items.append(f"원천 영역 밖에서 개인정보 {int(scan['findings']):,}건이 발견됐습니다: {places}")
    ret = data.get("retention") or {}
    if ret.get("dry_run") and ret.get("items"):
        items.append(
            f"보존 정책이 점검 모드(dry run)라 기한이 지난 {len(ret['items']):,}개 항목이 삭제되지 않았습니다."
        )
    return items


def _figures(summary: dict[str, Any]) -> list[tuple[str, str]]:
    cards = []
    rec = summary.get("recordings")
    if rec:
        cards.append(("녹취 전사", f"{rec.get('done', 0):,} / {rec.get('files_seen', 0):,}건"))
    if summary.get("audio_hours") is not None:
        cards.append(("통화 시간", f"{float(summary['audio_hours']):,.1f}시간"))
    sig = summary.get("signals_by_kind") or {}
    if sig:
        cards.append(("추출 신호", f"{sum(int(v) for v in sig.values()):,}건"))
    if summary.get("feature_rows") is not None:
        cards.append(("피처 갱신 고객", f"{int(summary['feature_rows']):,}명"))
    scan = summary.get("privacy_scan")
    if scan is not None:
        n = int(scan.get("findings") or 0)
        cards.append(("개인정보 잔존 점검", f"{n:,}건 발견" if n else "이상 없음"))
    recs = summary.get("recommendations") or {}
    if recs:
        cards.append(("추천 갱신 고객", f"{int(recs.get('customers') or 0):,}명"))
        if recs.get("model_version") is not None:
            cards.append(("추천 모델", f"버전 {recs['model_version']}"))
    return cards


def render_night_html(data: dict[str, Any]) -> str:
    """The morning report of one night: a headline, what needs attention, the retrain decision and why,
    stage timings, then the detail lists collapsed (issue 18: the page was a 12,000 px dump)."""
    summary = data.get("summary") or {}
    stages = []
    for s in data.get("stages", []):
        failures = [
            (str(f.get("item")), str(f.get("reason")))
            for rec in s.get("run_records", [])
            for f in rec.get("failures", [])
        ]
        stages.append(
            {
                "name": s["name"],
                "label": _STAGE_KO.get(s["name"], s["name"]),
                "status": s["status"],
                "status_label": _STATUS.get(s["status"], s["status"]),
                "wall_s": s["wall_s"],
                "log": str(s.get("log", "")).rsplit("/", 1)[-1],
                "failures": failures,
            }
        )
    status = str(data.get("status", "?"))
    ret = data.get("retention") or {}
    retention = None
    if ret:
        retention = {
            "dry_run": bool(ret.get("dry_run")),
            "summary": [
                (_PURGE_KO.get(k, k), f"{int(v['items']):,}개", _gb(float(v["bytes"])))
                for k, v in (ret.get("summary") or {}).items()
            ],
            "purged": [(i["path"], i["reason"]) for i in ret.get("items", [])],
            "kept": [(k["path"], k["reason"]) for k in ret.get("kept", [])],
        }
    retrain = _retrain_view(summary)
    counts = [
        (
            "녹취 처리",
            [
                ("처리", (summary.get("recordings") or {}).get("done")),
                ("이미 처리돼 건너뜀", (summary.get("recordings") or {}).get("skipped")),
                ("무음·대기음", _count((summary.get("recordings") or {}).get("no_speech"))),
            ],
        ),
        ("추출 신호", [(_SIGNAL_KO.get(k, k), v) for k, v in (summary.get("signals_by_kind") or {}).items()]),
        (
            "마스킹한 개인정보",
            [(_PII_KO.get(k, k), v) for k, v in (summary.get("pii_masked_by_type") or {}).items()],
        ),
        (
            "정책으로 보류한 추천",
            [
                (k, v)
                for k, v in ((summary.get("recommendations") or {}).get("suppressed_by_rule") or {}).items()
            ],
        ),
    ]
    counts = [(title, [(k, int(v)) for k, v in rows if v is not None]) for title, rows in counts]
    counts = [(title, rows) for title, rows in counts if rows]
    done = [s["label"] for s in stages if s["status"] == "ok"]
    headline = (
        f"{data.get('day', '')} 야간 배치 {_STATUS.get(status, status)}: {len(stages)}개 단계, "
        f"{duration_text(data.get('wall_s'))}. "
        + (f"정상 완료: {', '.join(done)}. " if done else "")
        + (retrain["verdict"] + "." if retrain else "")
    )
    return render_page(
        "nightly.html",
        title=f"야간 배치 보고서 — {data.get('day', '')}",
        headline=headline,
        attention=_attention(data, summary, stages),
        status=status,
        status_label=_STATUS.get(status, status),
        message=data.get("message", ""),
        started_at=data.get("started_at"),
        finished_at=data.get("finished_at"),
        wall_s=data.get("wall_s", 0),
        cards=_figures(summary),
        counts=counts,
        retrain=retrain,
        stages=stages,
        durations_png=_durations_png(data.get("stages", [])) if data.get("stages") else None,
        retention=retention,
        failed_files=[
            (str(f.get("path") or f.get("file") or f), str(f.get("reason", "")))
            for f in summary.get("files_failed") or []
        ],
        record=f"_runs/nightly-{data.get('day', '')}.json",
    )


def duration_text(seconds: Any) -> str:
    """Seconds in Korean ("4분 12초")."""
    from cdna.core.report import duration

    return duration(seconds)
