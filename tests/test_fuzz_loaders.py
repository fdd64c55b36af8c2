"""Property-based fuzzing of the bundle loaders: whatever the bytes, the CLI exits 0 or 2 with no
traceback, and no case takes longer than a few seconds (a hang is a failure)."""

from __future__ import annotations

import io
import json
import signal
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cchkit.cli import app

runner = CliRunner()
LIMIT_S = 20  # per case; numpy headers and tiny arrays load in milliseconds
FUZZ = settings(max_examples=int(__import__("os").environ.get("CCHKIT_FUZZ_EXAMPLES", 60)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@contextmanager
def time_limit(seconds: int):
    def expired(signum, frame):  # noqa: ARG001
        raise TimeoutError(f"a loader case ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def check_cli(path: Path) -> None:
    with time_limit(LIMIT_S):
        res = runner.invoke(app, ["info", "-d", str(path)])
    assert res.exit_code in (0, 2), (res.exit_code, res.output)
    assert "Traceback" not in res.output and "internal error" not in res.output
    if res.exit_code == 2:
        errors = [line for line in res.output.splitlines() if line.startswith("error: ")]
        others = [line for line in res.output.splitlines() if not line.startswith(("error: ", "cchkit: ", "warning: "))]
        assert len(errors) == 1 and not others, res.output


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".npz", ".npy", ""]))
def test_random_bytes(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"x{suffix}"
    path.write_bytes(data)
    check_cli(path)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_after_a_zip_signature(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("zip") / "x.npz"
    path.write_bytes(b"PK\x03\x04" + data)
    check_cli(path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**12) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
ENTRY_KEYS = ["file", "ids", "label", "dim", "n", "description", "representation", "sha256", "lable"]


@st.composite
def bundle_json(draw):
    doc = {}
    if draw(st.booleans()):
        doc["format_version"] = draw(JSON)
    mods = {}
    for name in draw(st.lists(st.sampled_from(["a", "b", "a\n", "__x", "ok.1"]), max_size=3, unique=True)):
        mods[name] = draw(st.dictionaries(st.sampled_from(ENTRY_KEYS), JSON | st.sampled_from(["a.npy", "b.npy", "label.npy", "../x.npy"]), max_size=5))
    doc["modalities"] = mods if draw(st.booleans()) else draw(JSON)
    if draw(st.booleans()):
        doc["label"] = draw(st.dictionaries(st.sampled_from(["file", "names", "sha256", "extra"]), JSON | st.just("label.npy"), max_size=3))
    return doc


@FUZZ
@given(doc=bundle_json())
def test_random_bundle_json(tmp_path_factory, doc):
    root = tmp_path_factory.mktemp("dir")
    rng = np.random.default_rng(0)
    np.save(root / "a.npy", rng.standard_normal((20, 3)))
    np.save(root / "b.npy", rng.standard_normal((20, 2)))
    np.save(root / "label.npy", np.repeat([0, 1], 10))
    (root / "bundle.json").write_text(json.dumps(doc))
    check_cli(root)


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


ARRAYS = st.one_of(
    st.builds(lambda n, d, s: np.random.default_rng(s).standard_normal((n, d)), st.integers(0, 30), st.integers(0, 4), st.integers(0, 9)),
    st.builds(lambda n: np.arange(n) % 3, st.integers(0, 30)),
    st.builds(lambda n: np.array(["x"] * n), st.integers(0, 5)),
    st.just(np.array('{"name": "n"}')),
    st.just(np.array([np.nan, np.inf] * 10)),
    st.just(np.zeros((2, 2, 2))),
)
KEYS = st.sampled_from(["a", "b", "label", "a__ids", "b__label", "__meta__", "a__idz", "x y", "label__ids"])


@FUZZ
@given(members=st.dictionaries(KEYS, ARRAYS | st.binary(max_size=200), min_size=1, max_size=5), deflate=st.booleans())
def test_random_npz_members(tmp_path_factory, members, deflate):
    path = tmp_path_factory.mktemp("npz") / "x.npz"
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for key, value in members.items():
            zf.writestr(f"{key}.npy", value if isinstance(value, bytes) else _npy(value))
    check_cli(path)


@pytest.mark.parametrize("depth", [10, 1000, 100_000])
def test_nested_json_documents(tmp_path, depth):
    (tmp_path / "bundle.json").write_text('{"modalities": ' + "[" * depth + "]" * depth + "}")
    check_cli(tmp_path)
