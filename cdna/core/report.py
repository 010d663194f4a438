"""HTML reports from jinja2 templates kept as package data: one base layout for every report (issue 12)."""

from __future__ import annotations

import base64
import io
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

__all__ = ["duration", "figure", "kst", "korean_font", "render_page"]

_KST = ZoneInfo("Asia/Seoul")


def kst(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp (ISO text or datetime) as Korea time, for pages read by Korean staff."""
    if value in (None, ""):
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        return when.strftime(fmt)
    return when.astimezone(_KST).strftime(fmt) + " KST"


def _number(value: Any, digits: int = 0) -> str:
    """Thousands separators; floats rounded to `digits`, and integral floats shown without `.0`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and (digits == 0 or value.is_integer()):
        return f"{round(value):,}"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def duration(seconds: float | None) -> str:
    """Seconds as a person reads them: "4분 12초", "38초", "1시간 3분"."""
    if seconds is None:
        return ""
    s = int(round(float(seconds)))
    if s < 60:
        return f"{s}초"
    if s < 3600:
        return f"{s // 60}분 {s % 60}초"
    return f"{s // 3600}시간 {s % 3600 // 60}분"


@cache
def korean_font() -> str | None:
    """Point matplotlib at an installed Korean font (Debian fonts-nanum) so chart labels are not boxes."""
    import matplotlib
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed & {"NanumGothic", "Noto Sans CJK KR"}:
        # matplotlib's font cache predates a fonts-nanum installed later: add the system's Korean fonts
        for path in font_manager.findSystemFonts():
            if "Nanum" in path or "NotoSansCJK" in path:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic"):
        if name in installed:
            matplotlib.rcParams["font.family"] = [name, "DejaVu Sans"]
            matplotlib.rcParams["axes.unicode_minus"] = False
            return name
    return None


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cdna", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,  # a missing figure is a bug, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kst"] = kst
    env.filters["number"] = _number
    env.filters["duration"] = duration
    return env


def render_page(template: str, **context: Any) -> str:
    """Render `cdna/templates/<template>` (which extends base.html) with `context`."""
    return _env().get_template(template).render(**context)


def figure(fig: Any, dpi: int = 90) -> str:
    """A matplotlib figure as a `data:` URI (reports are single self-contained files); closes the figure."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
