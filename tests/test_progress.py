"""Progress bars: on stderr when shown, never on stdout (the command's output)."""

from __future__ import annotations

import pytest

from minemap import progress


def test_bars_are_quiet_when_not_enabled(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MINEMAP_PROGRESS", "0")
    assert list(progress.track([1, 2, 3], "counting")) == [1, 2, 3]
    with progress.steps(2, "stepping") as bar:
        bar.advance("second")
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


def test_forced_bars_go_to_stderr_only(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MINEMAP_PROGRESS", "1")
    assert list(progress.track([1, 2, 3], "counting")) == [1, 2, 3]
    with progress.steps(2, "stepping") as bar:
        bar.advance("second step")
    out, err = capfd.readouterr()
    assert out == ""
    assert "counting" in err
    assert "step" in err
