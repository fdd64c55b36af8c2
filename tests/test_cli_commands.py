"""cchkit info / estimate / import through the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cchkit import ModalityBundle
from cchkit.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(["cat", "dog"], 30)
    df = pd.DataFrame({"audio_0": rng.standard_normal(60) + (y == "cat"), "audio_1": rng.standard_normal(60), "image_0": rng.standard_normal(60)})
    df["label"] = y
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return path


def test_info_table_and_json():
    res = run("info", "--data", "digits-avt")
    assert res.exit_code == 0 and "audio" in res.output and "10 classes" in res.output
    # every column of the table is explained under it (issue #27: "representation False" was not)
    header = res.output.splitlines()[1].split()
    legend = res.output.split("columns:\n", 1)[1]
    assert all(f"  {col}: " in legend for col in header if col != "modality")
    assert "representation: True: the bundle marks it as an already-learned representation" in legend
    res = run("info", "--data", "mfeat", "--format", "json")
    rows = json.loads(res.output)["rows"]
    assert {r["modality"]: r["dim"] for r in rows}["mor"] == 6


def test_estimate_label_and_pair_in_bits():
    res = run("estimate", "-x", "audio", "-y", "label", "--n-bootstrap", 20, "-f", "json")
    assert res.exit_code == 0, res.output
    row = json.loads(res.output)["rows"][0]
    assert 0 < row["value"] <= np.log(10) + 1e-9 and row["dim_y"] == 0
    res = run("estimate", "-x", "image", "-y", "audio", "--units", "bits", "--n-bootstrap", 20)
    assert res.exit_code == 0 and "bits" in res.output


def test_import_csv_then_rank(table, tmp_path):
    out = tmp_path / "b.npz"
    res = run("import", table, "--label", "label", "--out", out)
    assert res.exit_code == 0, res.output
    b = ModalityBundle.load(out)
    assert b.names == ["audio", "image"] and b.n_classes == 2
    res = run("rank", "-d", out, "-s", "image", "-c", "audio", "--n-bootstrap", 20)
    assert res.exit_code == 0, res.output


def test_import_with_mapping(table, tmp_path):
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"left": ["audio_0"], "right": ["audio_1", "image_0"]}))
    res = run("import", table, "--mapping", mapping, "--out", tmp_path / "dir")
    assert res.exit_code == 0, res.output
    assert ModalityBundle.load(tmp_path / "dir")["right"].dim == 2


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--label", "nope"), "no label column 'nope'"),
        (("--mapping", "/nonexistent.json"), "--mapping does not exist"),
        (("--sep", ":"), "has no '<modality>:' prefix"),
    ],
)
def test_import_errors(table, tmp_path, extra, message):
    res = run("import", table, "--out", tmp_path / "x.npz", *extra)
    assert res.exit_code == 2 and message in res.output
    assert not (tmp_path / "x.npz").exists()


def test_import_refuses_to_overwrite(table, tmp_path):
    out = tmp_path / "exists.npz"
    out.write_text("precious")
    res = run("import", table, "--out", out)
    assert res.exit_code == 2 and "already exists" in res.output
    assert out.read_text() == "precious"


def test_import_string_column_in_features(tmp_path):
    df = pd.DataFrame({"a_0": ["x"] * 20, "a_1": np.arange(20.0), "label": [0, 1] * 10})
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    res = run("import", path, "--out", tmp_path / "o.npz")
    assert res.exit_code == 2 and "non-numeric" in res.output


def test_estimate_errors():
    assert "unknown estimator" in run("estimate", "-x", "audio", "-e", "nope").output
    res = run("estimate", "-x", "audio", "--units", "bananas")
    assert res.exit_code == 2 and "--units" in res.output


@pytest.mark.slow
def test_validate_json_shape(tmp_path):
    sys_path = __import__("sys").path
    sys_path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from conftest import make_structured_bundle

    path = tmp_path / "b.npz"
    make_structured_bundle(n=400).save(path)
    res = run(
        "validate", "--baseline", "no-kd", "-d", path, "-s", "student", "-c", "shared,noise", "--seeds", 2, "--epochs", 3,
        "--n-bootstrap", 20, "-f", "json", "-q",
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert set(payload) == {"rows", "summary"}
    assert {r["teacher"] for r in payload["rows"]} == {"shared", "noise"}
    assert "spearman" in payload["summary"] and "baselines" in payload["summary"]


@pytest.mark.parametrize("args, message", [(("--seeds", 0), "seeds must be an integer >= 1"), (("--epochs", -1), "epochs must be an integer >= 1"), (("-m", "magic"), "magic")])
def test_validate_bad_input(args, message):
    res = run("validate", "--baseline", "no-kd", "-s", "audio", "-c", "image", *args)
    assert res.exit_code == 2 and message in res.output, res.output


def test_import_parquet_and_the_one_line_hint_without_pyarrow(tmp_path, monkeypatch):
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"label": np.repeat([0, 1], 15), **{f"a_{i}": rng.standard_normal(30) for i in range(3)},
                       **{f"b_{i}": rng.standard_normal(30) for i in range(2)}})
    path = tmp_path / "t.parquet"
    df.to_parquet(path)
    res = run("import", path, "--out", tmp_path / "b.npz")
    assert res.exit_code == 0, res.output
    assert ModalityBundle.load(tmp_path / "b.npz")["a"].dim == 3

    def no_pyarrow(*args, **kwargs):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow', 'fastparquet'.\nA suitable version ...")

    monkeypatch.setattr(pd, "read_parquet", no_pyarrow)
    res = run("import", path, "--out", tmp_path / "c.npz")
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "pip install 'cchkit[parquet]'" in res.output


def test_an_input_file_format_is_one_function_and_a_registration(tmp_path):
    """A trial format (JSON lines, one sample per line) joins `cchkit import` with no list edited;
    an unknown suffix is refused naming every registered one."""
    from cchkit.bundle.tables import file_suffixes, register_file_format, unregister_file_format

    path = tmp_path / "cells.jsonl"
    rows = [{"a_0": float(i), "a_1": float(i % 3), "b_0": float(-i), "label": i % 2} for i in range(30)]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    res = run("import", path, "--out", tmp_path / "before.npz")
    assert res.exit_code == 2 and "unsupported file type '.jsonl'" in res.output and ".h5mu" in res.output

    @register_file_format("json-lines", (".jsonl",), options=("sep",))
    def _jsonl(p, *, label, name, sep="_"):
        return ModalityBundle.from_dataframe(pd.read_json(p, lines=True), label=label, name=name, sep=sep)

    try:
        assert ".jsonl" in file_suffixes()
        res = run("import", path, "--out", tmp_path / "b.npz")
        assert res.exit_code == 0, res.output
        b = ModalityBundle.load(tmp_path / "b.npz")
        assert b.names == ["a", "b"] and b["a"].dim == 2 and b.name == "cells"
        res = run("import", path, "--id-column", "a_0", "--out", tmp_path / "c.npz")
        assert res.exit_code == 2 and "--id-column does not apply to json-lines files" in res.output
    finally:
        unregister_file_format("json-lines")
    assert ".jsonl" not in file_suffixes()


def test_a_grouping_option_an_h5ad_does_not_read_is_refused_not_dropped(tmp_path):
    anndata = pytest.importorskip("anndata")
    rng = np.random.default_rng(0)
    adata = anndata.AnnData(rng.normal(size=(40, 5)).astype(np.float32),
                            obs=pd.DataFrame({"cell_type": np.array(["x", "y"])[np.arange(40) % 2]},
                                             index=[f"c{i}" for i in range(40)]))
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"rna": ["0", "1"]}))
    res = run("import", path, "--label", "cell_type", "--mapping", mapping, "--out", tmp_path / "o.npz")
    assert res.exit_code == 2 and "--mapping does not apply to anndata files" in res.output
    assert not (tmp_path / "o.npz").exists()
    res = run("import", path, "--label", "cell_type", "--out", tmp_path / "o.npz")
    assert res.exit_code == 0, res.output
