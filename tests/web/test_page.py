"""The page in headless Chromium: map layers, explanations, dashboards, forms, languages."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from minemap.store import open_store
from tests.web.conftest import EDITOR, PASSWORD, Served, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_page(page: Any, served: Served, hash_: str = "") -> None:
    page.goto(f"{served.base}/{hash_}")
    page.wait_for_selector("body[data-map-ready='1']")


def canvas_is_drawn(page: Any, selector: str) -> bool:
    """Whether an element shows more than a few colours (something was drawn on it)."""
    image = Image.open(io.BytesIO(page.locator(selector).first.screenshot()))
    colours = image.convert("RGB").resize((64, 64)).getcolors(64 * 64) or []
    return len(colours) > 8


def test_map_loads_with_its_layers(page: Any, served: Served) -> None:
    open_page(page, served)
    layers = set(page.evaluate("minemap.map.getStyle().layers.map(l => l.id)"))
    expected = {
        "hillshade", "roads", "rivers", "districts-line", "front-line", "settlements", "risk",
        "hazards-fill", "releases-fill", "finds", "accidents", "eore", "priorities",
    }  # fmt: skip
    assert expected <= layers
    rendered = page.evaluate(
        """() => Object.fromEntries(['hazards-fill', 'releases-fill', 'roads', 'settlements']
            .map(id => [id, minemap.map.queryRenderedFeatures({layers: [id]}).length]))"""
    )
    assert all(n > 0 for n in rendered.values()), rendered
    assert canvas_is_drawn(page, "#map canvas")
    # the layer list names the layers, with record counts, and toggles them
    assert page.locator("#layer-list label", has_text="Hazardous areas").count() == 1
    box = page.locator("#layer-list input[data-layer='layer_hazards']")
    box.uncheck()
    assert page.evaluate("minemap.map.getLayoutProperty('hazards-fill', 'visibility')") == "none"
    box.check()
    assert page.locator("#risk-legend .classes span").count() == 5
    screenshot(page, "map")


def test_click_a_cell_explains_its_risk(page: Any, served: Served) -> None:
    open_page(page, served)
    # a point inside the region but outside any hazard, found by the map itself
    point = page.evaluate(
        """() => {
        const m = minemap.map, c = m.getCanvas();
        for (let y = 0.3; y < 0.8; y += 0.05) for (let x = 0.3; x < 0.8; x += 0.05) {
            const p = [c.clientWidth * x, c.clientHeight * y];
            const hits = m.queryRenderedFeatures(p, {layers: ['hazards-fill', 'finds', 'accidents',
                'eore', 'settlements']});
            if (!hits.length) return p;
        }
        return null;
    }"""
    )
    assert point is not None
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    page.wait_for_selector("#details .bigrisk")
    assert "%" in page.locator("#details .bigrisk").inner_text()
    assert page.locator("#details .bar").count() >= 1
    screenshot(page, "explain")


def test_click_a_hazard_shows_its_record_history_and_plan(page: Any, served: Served) -> None:
    open_page(page, served)
    # a point where the topmost thing drawn is a hazard
    point = page.evaluate(
        """() => {
        const m = minemap.map, c = m.getCanvas();
        const clickable = ['accidents', 'finds', 'eore', 'settlements', 'hazards-fill'];
        for (let y = 0.2; y < 0.9; y += 0.03) for (let x = 0.2; x < 0.9; x += 0.03) {
            const p = [c.clientWidth * x, c.clientHeight * y];
            const hits = m.queryRenderedFeatures(p, {layers: clickable});
            if (hits.length && hits[0].layer.id === 'hazards-fill') return p;
        }
        return null;
    }"""
    )
    assert point is not None
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    page.wait_for_selector("#details h4 >> text=Status history")
    title = page.locator("#details h4").first.inner_text()
    assert "HA-" in title
    assert page.locator("#details dt", has_text="Contamination").count() == 1
    screenshot(page, "hazard")


def test_dashboard_charts_render(page: Any, served: Served) -> None:
    open_page(page, served)
    page.click("button[data-view='dashboard']")
    page.wait_for_selector("body[data-dashboard-ready='1']")
    counts = page.evaluate(
        """() => Object.fromEntries(Object.entries(minemap.charts).map(([k, c]) =>
            [k, c.data.datasets.reduce((n, d) => n + d.data.filter(v => v).length, 0)]))"""
    )
    assert set(counts) == {"chart-casualties", "chart-released", "chart-eore", "chart-progress"}
    assert all(n > 0 for n in counts.values()), counts
    for chart in counts:
        assert canvas_is_drawn(page, f"#{chart}")
    assert page.locator(".kpi").count() == 6
    # the forecast band from the plan folder is drawn beside the released area
    labels = page.evaluate("minemap.charts['chart-progress'].data.datasets.map(d => d.label)")
    assert "forecast P50" in labels
    screenshot(page, "dashboard")


def login(page: Any) -> None:
    page.click("#login-btn")
    page.fill("#login-form input[name=username]", EDITOR)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#logout-btn:not(.hidden)")


def click_form_map(page: Any, fractions: list[tuple[float, float]]) -> None:
    page.wait_for_selector("body[data-form-map-ready='1']")
    box = page.locator("#form-map").bounding_box()
    for fx, fy in fractions:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def test_forms_round_trip_into_the_store(page: Any, served: Served) -> None:
    open_page(page, served)
    login(page)
    page.click("button[data-view='record']")

    # a non-technical survey: an SHA and its NTS activity
    form = page.locator("#form-nts")
    click_form_map(page, [(0.40, 0.40), (0.46, 0.40), (0.46, 0.47), (0.40, 0.47)])
    form.locator("input[name=name]").fill("Browser survey north of Gulganli")
    form.locator("input[name=recorded_on]").fill("2025-05-06")
    form.locator("select[name=contamination]").select_option("AP")
    form.locator("select[name=evidence]").select_option("verbal")
    # first without a hazard type: the API's own message shows next to the field
    with page.expect_response(lambda r: r.url.endswith("/api/hazards")) as answer:
        form.locator("button[type=submit]").click()
    assert answer.value.status == 422
    said = answer.value.json()["detail"][0]
    assert said["field"] == "type"
    error = form.locator("label.invalid .err")
    error.wait_for()
    assert error.inner_text() == said["msg"]
    assert form.locator("label.invalid select[name=type]").count() == 1
    form.locator("select[name=type]").select_option("SHA")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#form-nts .status.ok")
    screenshot(page, "form-nts")

    # an accident with two victims, one with a name (personal data)
    page.click("button[data-form='accident']")
    form = page.locator("#form-accident")
    click_form_map(page, [(0.55, 0.55)])
    form.locator("input[name=occurred_on]").fill("2025-04-03")
    form.locator("select[name=activity]").select_option("herding")
    form.locator("select[name=device_category]").select_option("AP")
    form.locator("input[name=device_model]").fill("PMN-2")
    for outcome, name in (("injured", "Elvin Aliyev"), ("killed", "")):
        form.locator("[data-action=add-victim]").click()
        victim = form.locator("fieldset.victim").last
        victim.locator("select[name=outcome]").select_option(outcome)
        victim.locator("select[name=group]").select_option("civilian")
        victim.locator("select[name=sex]").select_option("male")
        victim.locator("input[name=age]").fill("15")
        if name:
            victim.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#form-accident .status.ok")
    screenshot(page, "form-accident")

    # an EORE session
    page.click("button[data-form='eore']")
    form = page.locator("#form-eore")
    click_form_map(page, [(0.6, 0.35)])
    form.locator("input[name=held_on]").fill("2025-06-01")
    form.locator("select[name=method]").select_option("school")
    form.locator("input[name=boys]").fill("31")
    form.locator("input[name=girls]").fill("29")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#form-eore .status.ok")

    with open_store(served.db) as store:
        hazards = store.read("hazards")
        hazard = hazards[hazards["name"] == "Browser survey north of Gulganli"]
        assert len(hazard) == 1
        assert hazard["type"].iloc[0] == "SHA"
        assert hazard["created_by"].iloc[0] == EDITOR
        nts = store.read("activities", where={"hazard_id": int(hazard["id"].iloc[0])})
        assert list(nts["type"]) == ["NTS"]
        accidents = store.read("accidents")
        accident = accidents[accidents["device_model"] == "PMN-2"]
        accident = accident[accident["created_by"] == EDITOR]
        assert len(accident) == 1
        victims = store.read(
            "victims", where={"accident_id": int(accident["id"].iloc[0])}, include_personal=True
        )
        assert sorted(victims["outcome"]) == ["injured", "killed"]
        assert "Elvin Aliyev" in set(victims["name"])
        eore = store.read("eore_sessions")
        assert ((eore["boys"] == 31) & (eore["girls"] == 29)).sum() == 1


def test_language_switch(page: Any, served: Served) -> None:
    open_page(page, served)
    tab = page.locator("button[data-view='map']")
    assert tab.inner_text() == "Map"
    page.select_option("#lang", "az")
    page.wait_for_function("document.documentElement.lang === 'az'")
    assert tab.inner_text() == "Xəritə"
    assert page.locator("#layer-list", has_text="Təhlükəli ərazilər").count() == 1
    page.select_option("#lang", "ru")
    page.wait_for_function("document.documentElement.lang === 'ru'")
    assert tab.inner_text() == "Карта"
    page.click("button[data-view='dashboard']")
    page.wait_for_selector("body[data-dashboard-ready='1']")
    assert "Пострадавшие" in page.locator("#view-dashboard").inner_text()
    screenshot(page, "dashboard-ru")
    page.select_option("#lang", "en")
