"""Killed writers and concurrent writers lose nothing and half-write nothing (both engines)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from minemap.store import open_store
from tests.store.sample import hazard

ROOT = Path(__file__).resolve().parents[2]

KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from minemap.store import open_store
    from tests.store.sample import hazard

    store = open_store(sys.argv[1])
    with store.transaction():
        store.insert("hazards", [hazard(600 * i) for i in range(200)], user="killed")
        store.insert("finds", [{"category": "AP", "found_on": "2022-01-01",
                                "geometry": hazard()["geometry"].centroid}], user="killed")
        print(store.count("hazards"), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # dies inside the open transaction
    """
)

WRITER = textwrap.dedent(
    """
    import sys
    from minemap.store import open_store
    from tests.store.sample import hazard

    store = open_store(sys.argv[1])
    who = sys.argv[2]
    for batch in range(int(sys.argv[3])):
        store.insert("hazards", [hazard(600 * i, 600 * batch, name=who) for i in range(5)],
                     user=who)
    """
)


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_writer_leaves_the_store_as_it_was(store_url: str) -> None:
    with open_store(store_url) as s:
        s.insert("hazards", [hazard(name="before")], user="u")
        audit_before = len(s.audit())
    proc = _python(KILLED_WRITER, store_url)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err
    assert out.strip() == "201"  # the writer saw its own rows before it died
    with open_store(store_url) as s:
        assert s.count("hazards") == 1
        assert s.count("finds") == 0
        assert len(s.audit()) == audit_before
        assert len(s.hazard_history(1)) == 1
        # and the store still takes writes
        s.insert("hazards", [hazard(600, name="after")], user="u")
        assert list(s.read("hazards")["name"]) == ["before", "after"]


def test_concurrent_writers_lose_no_records(store_url: str) -> None:
    batches = 12
    procs = [_python(WRITER, store_url, who, str(batches)) for who in ("east", "west")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with open_store(store_url) as s:
        frame = s.read("hazards")
        assert len(frame) == 2 * batches * 5
        assert frame["ref"].is_unique
        assert frame["id"].is_unique
        assert (frame["name"] == "east").sum() == batches * 5
        assert len(s.audit(kind="hazards")) == 2 * batches * 5
