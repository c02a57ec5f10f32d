"""``minemap scenario`` and ``minemap demo`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minemap.cli import demo as demo_module
from minemap.cli.main import main
from tests.fixtures.scenario import make_scenario


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("Error: ")
    return err[0]


def test_unknown_preset_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scenario", "generate", "--preset", "nope", "--seed", "1", "--out", str(tmp_path)])
    assert code == 1
    assert "unknown scenario preset 'nope'" in one_error_line(capsys)


def test_negative_area_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scenario", "generate", "--area-km2", "-5", "--out", str(tmp_path)])
    assert code == 1
    assert "--area-km2" in one_error_line(capsys)


def test_unwritable_folder_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["scenario", "generate", "--area-km2", "20", "--out", str(blocker / "x")])
    assert code == 1
    assert "cannot write there" in one_error_line(capsys)


def test_describe_a_folder_that_is_not_a_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "describe", str(tmp_path)]) == 1
    assert "not a scenario folder" in one_error_line(capsys)


def test_describe_prints_the_figures(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "describe", str(scenario_dir)]) == 0
    out = capsys.readouterr().out
    for text in (
        "PMN-2",
        "minefields",
        "mined area",
        "Suspected area",
        "truly mined",
        "killed",
        "Released",
    ):
        assert text in out
    assert main(["scenario", "describe", str(scenario_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert 0.0 < data["mined_share_of_suspected"] < 1.0
    assert data["devices_by_category"]["AP"] > 0


def test_generate_writes_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "w"
    code = main(
        [
            "scenario",
            "generate",
            "--seed",
            "5",
            "--area-km2",
            "15",
            "--cell",
            "30",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "truth.gpkg only" in capsys.readouterr().out
    for name in ("observed.gpkg", "truth.gpkg", "dem.tif", "landcover.tif", "scenario.json"):
        assert (out / name).is_file()


def test_demo_scenario_steps_draw_and_describe(tmp_path: Path) -> None:
    # the demo's own steps for the scenario; the whole chain is tested in tests/test_demo.py
    ctx = demo_module.DemoContext(out=tmp_path, seed=7, scenario=tmp_path / "scenario")
    make_scenario(ctx.scenario, seed=ctx.seed, area_km2=20.0)
    demo_module.draw_overview(ctx)
    demo_module.describe_scenario(ctx)
    png = ctx.outputs["overview map"]
    assert png.is_file()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Truth:" in ctx.notes[-1]
