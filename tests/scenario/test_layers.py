"""The scenario folder keeps its contract: layers, fields, CRS, geometry, links, rasters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio

from minemap.records.schema import KINDS
from minemap.scenario.landcover import LANDCOVER_CODES
from minemap.scenario.writer import OWNED

TRUTH_COLUMNS = {"minefield_ref", "laid_period", "laid_year", "pattern", "found", "detonated"}


def layers(path: Path) -> dict[str, str | None]:
    return {str(name): geom for name, geom in pyogrio.list_layers(path)}


def test_observed_has_one_layer_per_kind_and_nothing_else(scenario_dir: Path) -> None:
    assert set(layers(scenario_dir / "observed.gpkg")) == set(KINDS)


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_layer_fields_geometry_and_crs_follow_the_schema(
    scenario_dir: Path, kind_name: str
) -> None:
    kind = KINDS[kind_name]
    path = scenario_dir / "observed.gpkg"
    info = pyogrio.read_info(path, layer=kind_name)
    expected = ["ref", *(f.file_name for f in kind.fields)]
    if kind_name in OWNED:
        expected.append("organisation_ref")
    assert list(info["fields"]) == expected
    assert info["geometry_type"] == kind.geometry
    if kind.geometry is not None:
        assert info["crs"] == "EPSG:32638"
    frame = pyogrio.read_dataframe(path, layer=kind_name)
    refs = frame["ref"]
    assert refs.is_unique
    assert refs.str.match(rf"^{kind.ref_prefix}-\d{{6}}$").all()
    for f in kind.fields:
        col = frame[f.file_name]
        present = col.dropna()
        if f.required:
            assert col.notna().all(), f"{kind_name}.{f.file_name} is required"
        if f.choices is not None:
            assert set(present) <= set(f.choices), f"{kind_name}.{f.file_name}"
        if f.type in ("int", "float") and len(present):
            if f.minimum is not None:
                assert present.min() >= f.minimum, f"{kind_name}.{f.file_name}"
            if f.maximum is not None:
                assert present.max() <= f.maximum, f"{kind_name}.{f.file_name}"
        if f.type == "date" and len(present):
            parsed = pd.to_datetime(present, format="%Y-%m-%d", errors="coerce")
            assert parsed.notna().all(), f"{kind_name}.{f.file_name} holds non-ISO dates"


def test_every_link_resolves(scenario_dir: Path) -> None:
    path = scenario_dir / "observed.gpkg"
    refs = {k: set(pyogrio.read_dataframe(path, layer=k, columns=["ref"])["ref"]) for k in KINDS}
    for name, kind in KINDS.items():
        frame = pyogrio.read_dataframe(path, layer=name, read_geometry=False)
        links = [(f.file_name, f.link) for f in kind.links]
        if name in OWNED:
            links.append(("organisation_ref", "organisations"))
        for column, target in links:
            values = set(frame[column].dropna())
            assert values <= refs[str(target)], f"{name}.{column} points at nothing"


def test_geometries_are_valid_and_inside_the_region(scenario_dir: Path) -> None:
    path = scenario_dir / "observed.gpkg"
    region = pyogrio.read_dataframe(path, layer="region").geometry.iloc[0]
    for name, kind in KINDS.items():
        if kind.geometry is None:
            continue
        frame = pyogrio.read_dataframe(path, layer=name)
        if frame.empty:
            continue
        assert frame.geometry.is_valid.all(), name
        assert not frame.geometry.is_empty.any(), name
        assert frame.geometry.within(region.buffer(1.0)).all(), name


def test_truth_is_never_in_observed(scenario_dir: Path) -> None:
    observed = scenario_dir / "observed.gpkg"
    assert not {"mines", "minefields"} & set(layers(observed))
    for name in KINDS:
        columns = set(pyogrio.read_info(observed, layer=name)["fields"])
        assert not columns & TRUTH_COLUMNS, name
    truth = scenario_dir / "truth.gpkg"
    assert set(layers(truth)) == {"mines", "minefields"}
    mines = pyogrio.read_dataframe(truth, layer="mines")
    finds = pyogrio.read_dataframe(observed, layer="finds")
    # devices turn up in observations only as finds, and only as many as truly found
    assert len(finds) == int(mines["found"].sum())
    assert len(finds) < len(mines)


def test_truth_layers(scenario_dir: Path) -> None:
    truth = scenario_dir / "truth.gpkg"
    mines = pyogrio.read_dataframe(truth, layer="mines")
    fields = pyogrio.read_dataframe(truth, layer="minefields")
    assert pyogrio.read_info(truth, layer="mines")["geometry_type"] == "Point"
    assert pyogrio.read_info(truth, layer="minefields")["geometry_type"] == "Polygon"
    assert pyogrio.read_info(truth, layer="mines")["crs"] == "EPSG:32638"
    assert {
        "ref",
        "minefield_ref",
        "model",
        "category",
        "laid_period",
        "laid_year",
        "found",
    } <= set(mines.columns)
    assert {"ref", "pattern", "side", "laid_period", "mine_count"} <= set(fields.columns)
    assert set(mines["category"]) <= {"AP", "AT", "UXO", "AXO", "submunition", "IED"}
    assert set(mines["minefield_ref"]) <= set(fields["ref"])
    counts = mines.groupby("minefield_ref").size()
    assert (fields.set_index("ref")["mine_count"].loc[counts.index] == counts).all()
    assert {"ap_belt", "at_field", "nuisance", "cmr_strike", "uxo_scatter"} <= set(
        fields["pattern"]
    )
    assert {"1994-2020", "2020", "2020-2023"} <= set(mines["laid_period"])
    assert {"PMN-2", "OZM-72", "TM-62M"} <= set(mines["model"])


def test_rasters(scenario_dir: Path) -> None:
    with rasterio.open(scenario_dir / "dem.tif") as dem:
        assert dem.crs.to_epsg() == 32638
        assert dem.dtypes[0] == "float32"
        assert dem.res[0] <= 30.0
        elevation = dem.read(1)
        assert np.isfinite(elevation).all()
        assert elevation.max() > elevation.min() + 100.0
        dem_shape, dem_bounds = elevation.shape, dem.bounds
    with rasterio.open(scenario_dir / "landcover.tif") as lc:
        assert lc.dtypes[0] == "uint8"
        assert lc.nodata == 0
        assert lc.shape == dem_shape
        assert lc.bounds == dem_bounds
        codes = set(np.unique(lc.read(1)).tolist())
        assert codes <= {1, 2, 3, 4, 5, 6}
        assert {2, 3, 4} <= codes
        tags = lc.tags()
        for code, name in LANDCOVER_CODES.items():
            assert tags[f"CODE_{code}"] == name


def test_metadata_states_the_geography_is_synthetic(scenario_dir: Path) -> None:
    meta = json.loads((scenario_dir / "scenario.json").read_text())
    assert meta["synthetic"] is True
    assert "synthetic" in meta["statement"].lower()
    assert "UTM zone 38N" in meta["statement"]
    assert meta["crs"] == "EPSG:32638"
    assert meta["preset"] == "karabakh"
    assert meta["seed"] == 7
    assert meta["landcover_codes"]["1"] == "forest"
    x0, y0, x1, y1 = meta["bounds"]
    assert (x1 - x0) * (y1 - y0) / 1e6 == pytest.approx(meta["area_km2"], abs=1e-3)
    # the real position of the Karabakh lowlands and foothills
    assert 600_000 < (x0 + x1) / 2 < 700_000
    assert 4_380_000 < (y0 + y1) / 2 < 4_460_000
    assert meta["parameters"]["mining"]["occupation_mines"] == 1_500_000
    notes = meta["parameter_notes"]
    assert "FACTS.md" in notes["mining.occupation_mines"]["source"]
    assert "FACTS.md" in notes["people.victims_total"]["source"]
    assert all(n["doc"] for n in notes.values())
    assert meta["counts"]["observed"]["hazards"] > 0
