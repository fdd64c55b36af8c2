"""The CLI through typer's CliRunner: outputs, formats, and bad input exiting 2 with one line."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from cchkit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def npz_bundle(tmp_path_factory):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from conftest import make_structured_bundle

    path = tmp_path_factory.mktemp("data") / "b.npz"
    make_structured_bundle(n=500).save(path)
    return path


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.usefixtures("paper_rule")
def test_rank_table_on_npz(npz_bundle):
    res = run("rank", "--data", npz_bundle, "--student", "student", "--candidates", "shared,noise", "--n-bootstrap", 20)
    assert res.exit_code == 0, res.output
    assert "advice for student: use shared" in res.output
    assert "CCH score" in res.output


def test_rank_json_and_out_file(npz_bundle, tmp_path):
    out = tmp_path / "r.json"
    res = run("rank", "-d", npz_bundle, "-s", "student", "-c", "shared,noise", "--n-bootstrap", 20, "--format", "json", "--out", out)
    assert res.exit_code == 0, res.output
    payload = json.loads(out.read_text())
    assert [r["teacher"] for r in payload["rows"]] == ["shared", "noise"]
    assert {"cch_score", "cch_low", "cch_high", "decision", "rank"} <= set(payload["rows"][0])


def test_rank_csv(npz_bundle):
    res = run("rank", "-d", npz_bundle, "-s", "student", "-c", "noise", "--n-bootstrap", 20, "-f", "csv")
    assert res.exit_code == 0
    assert res.output.splitlines()[0].startswith("student,teacher,estimator")


def test_same_seed_identical_json(npz_bundle):
    args = ("rank", "-d", npz_bundle, "-s", "student", "-c", "shared,noise", "--n-bootstrap", 20, "-f", "json", "--seed", 5)
    a, b = run(*args), run(*args)
    assert a.exit_code == 0
    assert json.loads(a.output)["rows"] == json.loads(b.output)["rows"]


def test_datasets_lists_bundled_data():
    res = run("datasets")
    assert res.exit_code == 0 and "digits-avt" in res.output and "mfeat" in res.output


def test_estimators_lists_registry():
    res = run("estimators", "--format", "json")
    assert res.exit_code == 0
    assert "gaussian" in {r["name"] for r in json.loads(res.output)["rows"]}


@pytest.mark.parametrize(
    "args, message",
    [
        (("rank", "-s", "video"), "unknown modality 'video'"),
        (("rank", "-s", "audio", "-c", "audio,image"), "also listed as a candidate"),
        (("rank", "-s", "audio", "-d", "/nonexistent.npz"), "neither a file or directory nor a bundled dataset"),
        (("rank", "-s", "audio", "-e", "magic"), "unknown estimator 'magic'"),
        (("rank", "-s", "audio", "-r", "bert"), "representation must be one of"),
        (("rank", "-s", "audio", "--n-bootstrap", 0), "n_bootstrap must be an integer >= 1"),
        (("rank", "-s", "audio", "-f", "xml"), "--format must be one of"),
        (("rank", "-s", "audio", "-c", ","), "--candidates is empty"),
        (("rank", "-s", "audio", "-c", "image,,text"), "--candidates 'image,,text' has an empty name"),
        (("validate", "-s", "audio", "-c", "image,"), "--candidates 'image,' has an empty name"),
        (("rank", "-s", "audio", "-e", "gaussian,"), "--estimator has an empty value"),
        (("validate", "-s", "audio", "-c", "image", "-m", ""), "--method has an empty value"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_corrupt_file_exits_2(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(np.random.default_rng(0).bytes(500))
    res = run("rank", "-s", "a", "-d", bad)
    assert res.exit_code == 2 and "not a readable .npz" in res.output


def test_pickle_npz_refused(tmp_path):
    bad = tmp_path / "evil.npz"
    np.savez(bad, a=np.array([object()] * 20, dtype=object), label=np.repeat([0, 1], 10))
    res = run("rank", "-s", "a", "-d", bad)
    assert res.exit_code == 2 and "never unpickles" in res.output


def test_unwritable_out_writes_nothing(npz_bundle, tmp_path):
    outdir = tmp_path / "outs"
    outdir.mkdir()
    out = outdir / "missing_dir" / "r.json"
    res = run("rank", "-d", npz_bundle, "-s", "student", "-c", "noise", "--n-bootstrap", 20, "-o", out)
    assert res.exit_code == 2 and "does not exist" in res.output
    assert list(outdir.iterdir()) == []  # nothing written anywhere: no file, no directory, no temp file
