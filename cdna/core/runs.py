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


def _durations_png(stages: list[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s["name"] for s in stages]
    secs = [s["wall_s"] for s in stages]
    colors = {"ok": "#2e7d32", "partial": "#f9a825", "failed": "#c62828"}
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * max(len(names), 1)))
    ax.barh(names[::-1], secs[::-1], color=[colors.get(s["status"], "#777") for s in stages][::-1])
    ax.set_xlabel("seconds")
    ax.set_title("stage durations")
    fig.tight_layout()
    return figure(fig, dpi=110)


_STATUS = {"ok": "정상", "partial": "일부 실패", "failed": "실패"}


def render_night_html(data: dict[str, Any]) -> str:
    """The morning report of one night as a self-contained HTML page (Korean headings)."""
    stages = []
    for s in data.get("stages", []):
        records = [
            {
                "stage": rec.get("stage"),
                "run_id": rec.get("run_id"),
                "rows": flatten({"counts": rec.get("counts", {}), "extra": rec.get("extra", {})}),
            }
            for rec in s.get("run_records", [])
        ]
        failures = [
            (str(f.get("item")), str(f.get("reason")))
            for rec in s.get("run_records", [])
            for f in rec.get("failures", [])
        ]
        result = flatten(s["result"]) if isinstance(s.get("result"), dict) else []
        stages.append({**s, "records": records, "failures": failures, "result": result})
    ret = data.get("retention") or {}
    retention = (
        {
            "dry_run": bool(ret.get("dry_run")),
            "summary": flatten(ret.get("summary", {})),
            "purged": [(i["path"], i["reason"]) for i in ret.get("items", [])],
            "kept": [(k["path"], k["reason"]) for k in ret.get("kept", [])],
        }
        if ret
        else None
    )
    status = str(data.get("status", "?"))
    return render_page(
        "nightly.html",
        title=f"야간 배치 보고서 — {data.get('day', '')}",
        status=status,
        status_label=_STATUS.get(status, status),
        message=data.get("message", ""),
        started_at=data.get("started_at"),
        finished_at=data.get("finished_at"),
        wall_s=data.get("wall_s", 0),
        summary=flatten(data.get("summary", {})),
        stages=stages,
        durations_png=_durations_png(data.get("stages", [])) if data.get("stages") else None,
        retention=retention,
    )
