"""Forecast and what-if: reproducible by seed; more assets never finish later."""

from __future__ import annotations

import datetime as dt

import numpy as np

from minemap.plan.forecast import History, bottleneck, run_forecast
from minemap.plan.inputs import PlanContext
from minemap.plan.model import apply_changes, build_instance, parse_change
from minemap.plan.whatif import Option, run_whatif


def _forecast(ctx: PlanContext, seed: int, assets: object = None) -> object:
    inst = build_instance(
        ctx.hazards, ctx.assets if assets is None else assets, ctx.catalogue, ctx.start, 120
    )  # type: ignore[arg-type]
    hist = History(released_m2=1e6, cleared_m2=1e5, releases=30, casualties=12, years=4)
    return run_forecast(inst, ctx.hazards, history=hist, draws=60, seed=seed, horizon=240)


def test_fixed_seed_gives_the_same_forecast(small_context: PlanContext) -> None:
    a = _forecast(small_context, 7).to_json()  # type: ignore[attr-defined]
    b = _forecast(small_context, 7).to_json()  # type: ignore[attr-defined]
    assert a == b
    c = _forecast(small_context, 8).to_json()  # type: ignore[attr-defined]
    assert c["monthly_released"] != a["monthly_released"]
    assert a["p10"] <= a["p50"] <= a["p90"]
    dt.date.fromisoformat(a["p50"])
    assert a["casualties_per_year"][0]["expected"] >= a["casualties_per_year"][-1]["expected"]


def test_more_assets_never_make_p50_later(small_context: PlanContext) -> None:
    ctx = small_context
    scores = np.ones(len(ctx.hazards))
    hist = History(released_m2=1e6, cleared_m2=1e5, releases=30, casualties=12, years=4)
    for text in ("manual=3@2026-01", "machine=1@2026-06", "dog=2@2026-01,nts=1@2026-01"):
        option = Option(text, parse_change(text, ctx.catalogue))
        result = run_whatif(
            ctx, [option], history=hist, benefit=scores, draws=40, seed=3, horizon=240
        )
        assert result["scenario"]["months_p50"] <= result["baseline"]["months_p50"]
        assert result["scenario"]["p90"] <= result["baseline"]["p90"]
        assert result["months_saved"] >= 0
        assert result["casualties_averted"] >= -1e-9


def test_removing_assets_applies_from_its_month(small_context: PlanContext) -> None:
    ctx = small_context
    changes = parse_change("manual=-1@2026-03", ctx.catalogue)
    fleet = apply_changes(ctx.assets, changes, ctx.catalogue, ctx.start)
    assert (fleet["available_until"] == dt.date(2026, 3, 1)).sum() == 1


def test_bottleneck_names_the_types_that_finish_last() -> None:
    finish = {
        "manual": {"months_p50": 40.0, "share_of_draws_last": 0.7},
        "dog": {"months_p50": 39.0, "share_of_draws_last": 0.3},
        "machine": {"months_p50": 14.0, "share_of_draws_last": 0.0},
    }
    text = bottleneck(finish, "2026-07-01")
    assert text is not None
    assert text.startswith("Bottleneck: manual and dog teams finish last (70%, 30% of draws)")
    # month 14 after July 2026 is September 2027
    assert "machine by 2027-09" in text
    assert bottleneck({}, "2026-07-01") is None


def test_a_fleet_that_cannot_clear_says_who_could(small_context: PlanContext) -> None:
    ctx = small_context
    survey_only = ctx.assets[ctx.assets["type"] == "nts"]
    assert len(survey_only)
    data = _forecast(ctx, 7, survey_only).to_json()  # type: ignore[attr-defined]
    assert data["p50"] is None
    note = next(n for n in data["notes"] if "can be cleared by no asset type in service" in n)
    assert f"{len(ctx.hazards)} of {len(ctx.hazards)} open hazards" in note
    assert "manual" in note
    assert "plan whatif --add" in note
    # with the whole fleet every hazard has a type that can clear it
    full = _forecast(ctx, 7).to_json()  # type: ignore[attr-defined]
    assert not any("no asset type in service" in n for n in full["notes"])
