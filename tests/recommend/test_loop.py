"""The loop (issue 17): the live trigger reads the champion's answered offers."""

from __future__ import annotations

from cdna.core.config import RecommendConfig
from cdna.recommend.retrain import triggers


def _live(acceptance: tuple[float, int] | None, cfg: RecommendConfig | None = None):
    out = triggers(None, None, None, None, cfg or RecommendConfig(), acceptance=acceptance)
    return {t.name: t for t in out}["live"]


def test_live_trigger_fires_after_enough_declines() -> None:
    fired = _live((2 / 40, 40), RecommendConfig(live_min_acceptance=0.1, min_live_outcomes=30))
    assert (
        fired.fired and "live acceptance 5.0% of 40 answered offers (below the floor 10.0%)" in fired.detail
    )


def test_live_trigger_quiet_with_few_answers_or_good_acceptance() -> None:
    few = _live((0.0, 10), RecommendConfig(min_live_outcomes=30))
    assert not few.fired and "too few answered offers" in few.detail and "(10, need 30)" in few.detail
    good = _live((0.3, 200))
    assert not good.fired and "at or above the floor" in good.detail
    none = _live(None)
    assert not none.fired and "(0, need 30)" in none.detail
