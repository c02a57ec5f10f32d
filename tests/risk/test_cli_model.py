"""``minemap model cv|fit|predict`` on a small table with the real data's awkward habits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minemap.cli.main import main
from tests.risk.tabledata import FEATURES, GROUP, LABEL, awkward_table, write_csv


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cli")


@pytest.fixture(scope="module")
def table_csv(workdir: Path) -> Path:
    return write_csv(awkward_table(n_per_group=30), workdir / "antioquia-like.csv")


@pytest.fixture(scope="module")
def model_file(workdir: Path, table_csv: Path) -> Path:
    path = workdir / "risk.model"
    code = main(
        ["model", "fit", "--table", str(table_csv), "--label", "MINES_OUTCOME", "--unknown", "-1",
         "--group", "municipio", "--threads", "1", "--out", str(path)]
    )  # fmt: skip
    assert code == 0
    return path


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("Error: ")
    return err[0]


def test_cv_prints_groups_and_writes_oof_in_order(
    workdir: Path, table_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oof = workdir / "oof.csv"
    code = main(
        ["model", "cv", "--table", str(table_csv), "--label", "mines_outcome", "--group",
         "Municipio", "--unknown", "-1", "--threads", "1", "--oof", str(oof)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    for name in ("NARI¥O", "PE¥OL", "SAN CARLOS", "GRANADA"):
        assert name in out
    assert "pooled out-of-fold ROC-AUC" in out
    assert "pooled out-of-fold average precision" in out
    written = pd.read_csv(oof)
    original = pd.read_csv(table_csv)
    assert list(written.columns) == [*original.columns, "probability"]
    assert len(written) == len(original)
    assert (written["geometry"] == original["geometry"]).all()
    assert written["probability"].between(0, 1).all()  # unknown rows included


def test_fit_then_predict_keeps_rows(
    workdir: Path, model_file: Path, table_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = pd.read_csv(table_csv)
    shuffled = original.sample(frac=1.0, random_state=3).reset_index(drop=True)
    source = write_csv(shuffled, workdir / "to-score.csv")
    out = workdir / "scored.csv"
    capsys.readouterr()
    code = main(
        ["model", "predict", "--model", str(model_file), "--table", str(source), "--out",
         str(out), "--explain", "2"]
    )  # fmt: skip
    assert code == 0
    assert capsys.readouterr().err == ""
    scored = pd.read_csv(out)
    assert len(scored) == len(shuffled)
    assert (scored["geometry"] == shuffled["geometry"]).all()
    assert {"probability", "feature_1", "contribution_2"} <= set(scored.columns)
    # scoring the table in its own order gives the same probability per cell
    again = workdir / "scored-original.csv"
    assert main(["model", "predict", "--model", str(model_file), "--table", str(table_csv),
                 "--out", str(again)]) == 0  # fmt: skip
    by_cell = pd.read_csv(again).set_index("geometry")["probability"]
    assert np.allclose(scored["probability"], by_cell.loc[scored["geometry"]].to_numpy())


def test_predict_missing_and_extra_columns(
    workdir: Path, model_file: Path, table_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(table_csv).drop(columns=[FEATURES[1], LABEL]).assign(nueva=1)
    source = write_csv(frame, workdir / "fewer.csv")
    out = workdir / "fewer-scored.csv"
    capsys.readouterr()
    assert main(["model", "predict", "--model", str(model_file), "--table", str(source),
                 "--out", str(out)]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "Warning:" in err
    assert "Distancia, vía" in err
    assert len(pd.read_csv(out)) == len(frame)


@pytest.mark.parametrize(
    ("change", "args", "message"),
    [
        (None, ["--label", "no_such_label", "--group", GROUP], "no label column 'no_such_label'"),
        ("one-class", ["--label", LABEL, "--group", GROUP, "--unknown", "-1"], "only one class"),
        ("one-group", ["--label", LABEL, "--group", GROUP, "--unknown", "-1"], "only one group"),
        (None, ["--label", LABEL, "--group", GROUP, "--unknown", "nada"], "is not a number"),
        (None, ["--label", LABEL, "--group", "Región", "--unknown", "-1"], "no group column"),
    ],
)
def test_cv_errors_are_one_line(
    workdir: Path,
    change: str | None,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    frame = awkward_table(n_per_group=10)
    if change == "one-class":
        frame[LABEL] = frame[LABEL].clip(lower=0) * 0 + (frame[LABEL] == -1) * -1
    if change == "one-group":
        frame[GROUP] = "SONSON"
    path = write_csv(frame, workdir / f"bad-{change}.csv")
    capsys.readouterr()
    assert main(["model", "cv", "--table", str(path), *args]) == 1
    line = _error_line(capsys)
    assert message in line
    assert str(path) in line or "--unknown" in line


def test_unreadable_files_are_one_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = workdir / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    assert main(["model", "fit", "--table", str(broken), "--label", LABEL,
                 "--out", str(workdir / "x.model")]) == 1  # fmt: skip
    assert "broken.xlsx" in _error_line(capsys)
    assert not (workdir / "x.model").exists()
    not_a_model = workdir / "plain.txt"
    not_a_model.write_text("hello", encoding="utf-8")
    assert main(["model", "predict", "--model", str(not_a_model), "--table", str(not_a_model),
                 "--out", str(workdir / "y.csv")]) == 1  # fmt: skip
    assert "not a minemap model file" in _error_line(capsys)
    assert not (workdir / "y.csv").exists()


def test_cv_needs_group_or_blocks(table_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model", "cv", "--table", str(table_csv), "--label", LABEL]) == 2
    assert "--group" in capsys.readouterr().err


def test_cv_with_square_blocks(table_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["model", "cv", "--table", str(table_csv), "--label", LABEL, "--unknown", "-1",
         "--block-size", "12000", "--folds", "2", "--threads", "1", "--no-evidence"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "block (12000 m)" in out
    assert "pooled out-of-fold ROC-AUC" in out


def test_features_option_keeps_headers_with_commas(
    workdir: Path, table_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workdir / "two.model"
    code = main(
        ["model", "fit", "--table", str(table_csv), "--label", LABEL, "--unknown", "-1",
         "--features", "Distancia, vía", "--features", "elevacion,tipo_suelo",
         "--threads", "1", "--no-evidence", "--out", str(path)]
    )  # fmt: skip
    assert code == 0
    from minemap.risk.model import RiskModel

    assert RiskModel.load(path).feature_names == ["Distancia, vía ", "elevación", "tipo_suelo"]
