"""The hostile-input catalogue: every mistake a user can make meets a clear message and exit 2,
never a traceback, a hang, or a silently wrong number; nothing is written on failure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import cchkit
from cchkit.cli import app

runner = CliRunner()
RNG = np.random.default_rng(0)
N = 60
Y = np.repeat([0, 1, 2], N // 3)
A = RNG.standard_normal((N, 4)) + Y[:, None]
B = RNG.standard_normal((N, 3)) - Y[:, None]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def npz(tmp_path, name="b.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def assert_user_error(res, message):
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert message in res.output, res.output
    assert "Traceback" not in res.output
    assert len([line for line in res.output.splitlines() if line.startswith("error:")]) == 1


# each case: arrays for the .npz, extra CLI args, expected message
FILE_CASES = {
    "nan": (dict(a=np.where(np.eye(N, 4) > 0, np.nan, A), b=B, label=Y), "NaN"),
    "inf": (dict(a=np.where(np.eye(N, 4) > 0, np.inf, A), b=B, label=Y), "infinite"),
    "rows_do_not_match_labels": (dict(a=A[:50], b=B, label=Y), "has 50 rows but its labels have 60"),
    "no_label_array": (dict(a=A, b=B), "no 'label' array"),
    "one_class_only": (dict(a=A, b=B, label=np.zeros(N, int)), "at least 2 classes"),
    "single_sample": (dict(a=A[:1], b=B[:1], label=Y[:1]), "at least 10 are needed"),
    "string_features": (dict(a=np.array([["x"] * 4] * N), b=B, label=Y), "not numeric"),
    "non_integer_float_labels": (dict(a=A, b=B, label=Y + 0.25), "non-integer floats"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_bad_bundle_file_cli_and_api(tmp_path, case):
    arrays, message = FILE_CASES[case]
    path = npz(tmp_path, **arrays)
    assert_user_error(run("rank", "-d", path, "-s", "a", "-c", "b"), message)
    with pytest.raises(cchkit.CchkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cchkit.ModalityBundle.load(path)


def test_pickle_npz_refused_never_unpickled(tmp_path):
    class Boom:
        def __reduce__(self):  # would run on unpickling
            return (pytest.fail, ("unpickled!",))

    path = tmp_path / "evil.npz"
    np.savez(path, a=np.array([Boom()] * N, dtype=object), label=Y)
    assert_user_error(run("rank", "-d", path, "-s", "a"), "never unpickles")


@pytest.mark.parametrize("content, message", [(b"", "is empty"), (bytes(RNG.integers(0, 256, 4096, dtype=np.uint8)), "not a readable")])
def test_empty_and_random_bytes(tmp_path, content, message):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    assert_user_error(run("info", "-d", path), message)


def test_directory_without_bundle_json(tmp_path):
    assert_user_error(run("info", "-d", tmp_path), "without bundle.json")


def test_bundle_json_that_lies_about_dims(tmp_path):
    path = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y).save(tmp_path / "dir")
    meta = json.loads((path / "bundle.json").read_text())
    meta["modalities"]["a"]["dim"] = 99
    (path / "bundle.json").write_text(json.dumps(meta))
    assert_user_error(run("info", "-d", path), "says modality 'a' has dim=99")


@pytest.fixture
def good(tmp_path):
    return npz(tmp_path, "good.npz", a=A, b=B, c=RNG.standard_normal((N, 2)), label=Y)


@pytest.mark.parametrize(
    "args, message",
    [
        (("rank", "-s", "zzz"), "unknown modality 'zzz'"),
        (("rank", "-s", "a", "-c", "a,b"), "also listed as a candidate"),
        (("rank", "-s", "a", "-e", "oracle"), "unknown estimator 'oracle'"),
        (("rank", "-s", "a", "-r", "clip"), "unknown representation 'clip'"),
        (("rank", "-s", "a", "--n-bootstrap", 0), "n_bootstrap must be a positive"),
        (("rank", "-s", "a", "--n-bootstrap", -5), "n_bootstrap must be a positive"),
        (("rank", "-s", "a", "--device", "tpu"), "device"),
        (("rank", "-s", "a", "-f", "yaml"), "--format must be one of"),
        (("validate", "-s", "a", "-c", "b", "--seeds", 0), "--seeds must be a positive"),
        (("validate", "-s", "a", "-c", "b", "--seeds", -2), "--seeds must be a positive"),
        (("estimate", "-x", "a", "-y", "zzz"), "unknown modality 'zzz'"),
    ],
)
def test_bad_arguments(good, args, message):
    assert_user_error(run(*args, "-d", good), message)


def test_cuda_requested_without_cuda(good):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert_user_error(run("rank", "-d", good, "-s", "a", "-r", "encoder", "--device", "cuda"), "CUDA is not available")


def test_constant_and_duplicated_columns_in_estimate(tmp_path):
    const = npz(tmp_path, "c.npz", a=np.c_[A, np.ones(N)], b=B, label=Y)
    assert_user_error(run("estimate", "-d", const, "-x", "a", "-y", "b"), "constant column")
    dup = npz(tmp_path, "d.npz", a=np.c_[A, A[:, :1]], b=B, label=Y)
    assert_user_error(run("estimate", "-d", dup, "-x", "a", "-y", "b"), "duplicated column")


def test_constant_columns_in_rank_are_dropped_not_fatal(tmp_path):
    path = npz(tmp_path, "c.npz", a=np.c_[A, np.ones(N)], b=B, label=Y)
    res = run("rank", "-d", path, "-s", "a", "-c", "b", "--n-bootstrap", 20)
    assert res.exit_code == 0, res.output


def test_fewer_samples_than_k_api():
    pytest.importorskip("cchkit.estimators.knn")
    with pytest.raises(cchkit.InputError, match="at least"):
        cchkit.get_estimator("ksg", k=10).estimate(A[:8], B[:8])


def test_mismatched_sample_counts_api():
    with pytest.raises(cchkit.InputError, match="sample counts do not match"):
        cchkit.get_estimator("gaussian").estimate(A, B[:30])


def test_unpaired_data_for_paired_method(tmp_path):
    b = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y, paired=False)
    path = b.save(tmp_path / "unpaired.npz")
    res = run("validate", "-d", path, "-s", "a", "-c", "b", "-m", "logit-kd", "--seeds", 1, "--epochs", 1, "-q")
    # the ranking side needs pairs too: either way a clear message, exit 2
    assert res.exit_code in (0, 2), res.output
    assert "Traceback" not in res.output
    with pytest.raises(cchkit.NotPairedError):
        cchkit.distill.distill(b, "a", "b", method="logit-kd", epochs=1)


def test_huge_dimension_tiny_n_answers_with_shrinkage(tmp_path):
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 10)
    path = npz(tmp_path, "wide.npz", a=rng.standard_normal((20, 500)) + y[:, None], b=rng.standard_normal((20, 300)), label=y)
    res = run("rank", "-d", path, "-s", "a", "-c", "b", "--n-bootstrap", 20, "-r", "raw", "-f", "json")
    assert res.exit_code in (0, 2), res.output
    if res.exit_code == 0:
        row = json.loads(res.output)["rows"][0]
        assert row["error"] or np.isfinite(row["cch_score"])
    else:
        assert "error:" in res.output


@pytest.mark.parametrize("labels", [np.repeat(["low", "mid", "high"], N // 3), Y.astype(float)])
def test_string_and_whole_float_labels_work(tmp_path, labels):
    path = npz(tmp_path, "s.npz", a=A, b=B, label=labels)
    res = run("rank", "-d", path, "-s", "a", "-c", "b", "--n-bootstrap", 20)
    assert res.exit_code == 0, res.output


def test_unwritable_out_leaves_nothing(good, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker / "ranking.json"  # a path under a regular file
    assert_user_error(run("rank", "-d", good, "-s", "a", "-c", "b", "--n-bootstrap", 20, "-o", out), "does not exist")


def test_failed_run_does_not_touch_existing_out(good, tmp_path):
    out = tmp_path / "keep.json"
    out.write_text("previous result")
    assert_user_error(run("rank", "-d", good, "-s", "zzz", "-o", out), "unknown modality")
    assert out.read_text() == "previous result"


def test_ctrl_c_exits_cleanly_without_partial_output(good, tmp_path, monkeypatch):
    import cchkit.ranking

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cchkit.ranking, "rank_teachers", interrupted)
    out = tmp_path / "r.json"
    res = run("rank", "-d", good, "-s", "a", "-o", out)
    assert res.exit_code == 130 and "interrupted" in res.output
    assert not out.exists() and not list(tmp_path.glob(".r.json*"))


def test_same_seed_byte_identical_json(good):
    args = ("rank", "-d", good, "-s", "a", "--n-bootstrap", 20, "-f", "json", "--seed", 11)
    first, second = run(*args), run(*args)
    assert first.exit_code == 0
    assert first.output == second.output


@pytest.mark.slow
def test_validate_same_seed_byte_identical_json(good):
    args = ("validate", "-d", good, "-s", "a", "-c", "b", "--seeds", 2, "--epochs", 2, "--n-bootstrap", 20, "-f", "json", "-q")
    first, second = run(*args), run(*args)
    assert first.exit_code == 0, first.output
    assert first.output == second.output
