"""The second hostile-input catalogue (issue #24): each case once changed a number or a decision
without a word, dropped a parameter, wrote where it should not, or ended in a traceback."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cchkit
from cchkit.cli import app
from cchkit.exceptions import BundleError, BundleFormatError, CchkitError, EstimatorError, InputError

runner = CliRunner()
RNG = np.random.default_rng(0)
N = 60
Y = np.repeat([0, 1, 2], N // 3)
A = RNG.standard_normal((N, 4)) + Y[:, None]
B = RNG.standard_normal((N, 3)) - Y[:, None]


def run(*args, **kw):
    return runner.invoke(app, [str(a) for a in args], **kw)


def assert_user_error(res, message):
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert message in res.output, res.output
    assert "Traceback" not in res.output


def small_bundle(tmp_path, name="b.npz", **extra):
    path = tmp_path / name
    np.savez(path, a=A, b=B, label=Y, **extra)
    return path


# ------------------------------------------------------------------ 1. intervals with every error
def test_gaussian_label_interval_includes_the_monte_carlo_error():
    """Truth: x = N(0, I_2) + y (1, 1) with 3 equiprobable classes; the interval must hold it
    for every seed (before: 0.437, 0.420, 0.440, 0.408 with intervals of +-0.003)."""
    from scipy import integrate, stats

    def integrand(u):  # I = H(Y) - E[H(Y | x)] along the class axis (the orthogonal one is noise)
        dens = np.array([stats.norm.pdf(u, loc=c * math.sqrt(2)) for c in range(3)]) / 3
        post = dens / dens.sum(0)
        return dens.sum(0) * -(post * np.log(post)).sum(0)

    truth = math.log(3) - integrate.quad(integrand, -10, 13)[0]
    assert truth == pytest.approx(0.416, abs=0.001)
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 20_000)
    x = rng.standard_normal((20_000, 2)) + y[:, None]
    for seed in range(3):
        e = cchkit.mutual_info(x, y, random_state=seed, n_bootstrap=100)
        assert e.ci[0] <= truth <= e.ci[1], (seed, e.value, e.ci)
        assert e.extra["mc_se"] <= 0.3 * e.se  # the draws were refined below the sampling error


def test_a_fixed_number_of_draws_widens_the_interval_by_its_error():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 5000)
    x = rng.standard_normal((5000, 2)) + y[:, None]
    few = cchkit.mutual_info(x, y, random_state=0, n_mc=200, n_bootstrap=50)
    assert few.extra["n_mc"] == 200 and few.extra["mc_se"] > 0.01
    assert few.se >= few.extra["mc_se"]
    assert few.ci[1] - few.ci[0] >= 2 * 1.9 * few.extra["mc_se"]
    assert "Monte Carlo error" in few.ci_method


# ------------------------------------------------------------------ 2. parameters used or refused
@pytest.mark.parametrize("name", ["mine", "infonce"])
def test_neural_estimators_take_their_parameters(name):
    est = cchkit.get_estimator(name, random_state=3, max_steps=7, device="cpu")
    assert est.random_state == 3 and est.max_steps == 7 and est.device == "cpu"
    assert {"random_state", "device", "max_steps"} <= set(est.get_params())


def test_infonce_is_reproducible_through_the_ranking():
    bundle = cchkit.ModalityBundle.from_arrays({"a": A[:, :2], "b": B[:, :2]}, labels=Y)
    kw = dict(estimators=["infonce"], representation="raw", random_state=0,
              estimator_params={"infonce": {"max_steps": 20, "eval_every": 10}})
    one = cchkit.rank_teachers(bundle, "a", ["b"], **kw).table
    two = cchkit.rank_teachers(bundle, "a", ["b"], **kw).table
    assert one["i_teacher_student"].iloc[0] == two["i_teacher_student"].iloc[0]


def test_misspelt_parameter_and_estimator_are_refused():
    with pytest.raises(EstimatorError, match="no parameter.*'kk'.*accepts k"):
        cchkit.get_estimator("ksg", kk=50)
    with pytest.raises(CchkitError, match="'kk'"):
        cchkit.rank_teachers("digits-avt", "audio", ["text"], estimators=["ksg"], estimator_params={"ksg": {"kk": 50}})
    with pytest.raises(InputError, match="'gausian'.*does not use"):
        cchkit.rank_teachers("digits-avt", "audio", ["text"], estimator_params={"gausian": {"n_mc": 500}})


def test_an_estimator_with_kwargs_cannot_be_registered():
    class Loose(cchkit.MIEstimator):
        def __init__(self, **kwargs):
            super().__init__()

        def _estimate_continuous(self, x, y):  # pragma: no cover
            raise AssertionError

        def _estimate_discrete(self, x, labels):  # pragma: no cover
            raise AssertionError

    with pytest.raises(TypeError, match="kwargs"):
        cchkit.register_estimator("loose-test")(Loose)


def test_cli_estimate_infonce_with_a_seed_is_reproducible(tmp_path):
    path = small_bundle(tmp_path)
    outs = []
    for i in range(2):
        out = tmp_path / f"e{i}.json"
        res = run("estimate", "-d", path, "-x", "a", "-y", "b", "-e", "infonce", "--seed", "0", "--device", "cpu",
                  "-f", "json", "-o", out, "-q")
        assert res.exit_code == 0, res.output
        outs.append(json.loads(out.read_text())["rows"][0]["value"])
    assert outs[0] == outs[1]


# ------------------------------------------------------------------ 3. each row's sample size
def test_rows_report_the_samples_actually_used(caplog):
    rng = np.random.default_rng(0)
    n = 300
    y = np.repeat(np.arange(3), n // 3)
    arrays = {m: rng.standard_normal((n, 3)) + y[:, None] for m in ("s", "t1", "t2")}
    shared = np.arange(0, n, 10)  # t2 shares 30 of its 300 samples with s and t1
    ids = {"s": np.arange(n), "t1": np.arange(n), "t2": np.r_[shared, np.arange(1000, 1270)]}
    labels = {"s": y, "t1": y, "t2": np.r_[y[shared], np.repeat(np.arange(3), 90)]}
    bundle = cchkit.ModalityBundle.from_arrays(arrays, labels=labels, ids=ids)
    with caplog.at_level("WARNING", logger="cchkit"):
        table = cchkit.rank_teachers(bundle, "s", representation="raw").table
    used = bundle.paired(["s", "t1", "t2"]).n
    assert used == 30
    assert (table["n_pairs"] == used).all()
    assert "shares only" in caplog.text


# ------------------------------------------------------------------ 4. matched: one projection
def test_matched_variant_projects_each_modality_once_per_seed(monkeypatch):
    from cchkit import cch
    from cchkit.ranking import grid

    seen = []
    real = cch.discriminant_projection

    def spy(h, labels, *, random_state=0):
        seen.append((h.shape[1], random_state))
        return real(h, labels, random_state=random_state)

    monkeypatch.setattr(cch, "discriminant_projection", spy)
    monkeypatch.setattr(grid, "discriminant_projection", spy)
    cchkit.rank_teachers("digits-avt", "audio", ["text"], variant="matched", dim=4, n_bootstrap=5)
    assert seen and len({seed for _, seed in seen}) == 1, seen


# ------------------------------------------------------------------ 5. inputs that merge, leak, misalign
def _bundle_dir(tmp_path, names, codes=None):
    bundle = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y)
    path = bundle.save(tmp_path / "bdir")
    meta = json.loads((path / "bundle.json").read_text())
    meta["label"]["names"] = names
    (path / "bundle.json").write_text(json.dumps(meta))
    if codes is not None:
        np.save(path / meta["label"]["file"], codes)
    return path


@pytest.mark.parametrize("names", [["x", "x", "y"], [1, "1", 2]])
def test_duplicate_class_names_are_refused(tmp_path, names):
    path = _bundle_dir(tmp_path, names)
    assert_user_error(run("info", "-d", path), "twice")


def test_labels_of_different_kinds_are_refused():
    with pytest.raises(BundleError, match="different kinds"):
        cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels={"a": Y.astype(float), "b": Y.astype(str)})


def test_mapping_cannot_use_the_label_column_as_a_feature(tmp_path):
    df = pd.DataFrame({"a_0": A[:, 0], "b_0": B[:, 0], "label": Y})
    table = tmp_path / "t.csv"
    df.to_csv(table, index=False)
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"a": ["a_0", "label"], "b": ["b_0"]}))
    assert_user_error(run("import", table, "--out", tmp_path / "o.npz", "--mapping", mapping), "leak")
    mapping.write_text(json.dumps({"a": ["a_0", "a_0"], "b": ["b_0"]}))
    assert_user_error(run("import", table, "--out", tmp_path / "o.npz", "--mapping", mapping), "more than once")
    assert not (tmp_path / "o.npz").exists()


def test_header_only_table_says_so(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a_0,b_0,label\n")
    assert_user_error(run("import", table, "--out", tmp_path / "o.npz"), "no rows")


def test_dataframes_pair_by_index_not_position():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(200)
    a = pd.DataFrame({"a0": z + 0.3 * rng.standard_normal(200)})
    b = pd.DataFrame({"b0": z + 0.3 * rng.standard_normal(200)}).sample(frac=1, random_state=1)
    labels = pd.Series((z > 0).astype(int))
    view = cchkit.ModalityBundle.from_arrays({"a": a, "b": b}, labels=labels).paired(["a", "b"])
    assert np.corrcoef(view.data["a"][:, 0], view.data["b"][:, 0])[0, 1] > 0.8
    with pytest.raises(BundleError, match="different indexes"):
        cchkit.ModalityBundle.from_arrays({"a": a, "b": b}, labels=labels.to_numpy())


def test_integer_labels_of_shape_n_by_1_are_labels():
    e = cchkit.mutual_info(A, Y[:, None], random_state=0, n_bootstrap=20)
    assert e.dim_y == 0 and e.label_entropy == pytest.approx(math.log(3))


def test_nan_sample_ids_are_refused():
    with pytest.raises(BundleError, match="missing"):
        cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y, ids=np.r_[np.nan, np.arange(N - 1.0)])


@pytest.mark.parametrize("estimator", ["gaussian", "ksg"])
@pytest.mark.parametrize("other", ["copy", "affine"])
def test_a_modality_against_a_copy_of_itself_is_refused(estimator, other):
    y = A.copy() if other == "copy" else 2 * A + 1
    with pytest.raises(InputError, match="exact linear function"):
        cchkit.mutual_info(A, y, estimator, random_state=0)


def test_ksg_never_reports_a_zero_width_interval():
    x = np.arange(8.0)[:, None]
    y = np.array([0.0, 1, 0, 1, 0, 1, 0, 1])[:, None] + 0.5 * x
    e = cchkit.get_estimator("ksg", k=1, random_state=0, n_bootstrap=10)
    ci, info = e._subsample_interval(0.1, 8, lambda idx: -0.134, np.random.default_rng(0))
    assert ci is None and "same value" in info["ci_method"]
    assert e.estimate(x, y).ci is None or e.estimate(x, y).ci[1] > e.estimate(x, y).ci[0]


# ------------------------------------------------------------------ 6. claims without evidence
def test_one_teacher_is_never_the_best_of_one():
    from cchkit.validation.validate import criterion_stats

    t = pd.DataFrame({"cch_score": [0.1], "cch_low": [0.05], "cch_high": [0.15], "gain": [0.02], "gain_low": [0.01],
                      "gain_high": [0.03],
                      "significant": [True], "student_accuracy_on_h": [0.5], "acc_none": [0.5]})
    assert math.isnan(criterion_stats(t, "cch_score")["top_is_best"])
    two = pd.concat([t, t.assign(cch_score=0.0, gain=0.0, gain_low=np.nan, gain_high=np.nan)])
    assert math.isnan(criterion_stats(two, "cch_score")["top_is_best"])  # one seed: no intervals


def test_accuracy_intervals_stay_in_zero_one():
    from cchkit._stats import t_interval

    m, lo, hi = t_interval(np.array([0.2, 0.95]), bounds=(0.0, 1.0))
    assert m == pytest.approx(0.575) and lo == 0.0 and hi == 1.0


@pytest.mark.usefixtures("paper_rule")
def test_rows_with_too_few_pairs_predict_nothing_under_any_criterion():
    from cchkit.ranking.table import TOO_FEW_PAIRS, add_ranks

    rng = np.random.default_rng(0)
    for criterion in ("cch_score", "teacher_accuracy", "label_gain"):
        table = pd.DataFrame({
            "student": ["s", "s"], "teacher": ["t1", "t2"], "estimator": ["g", "g"], "error": [None, None],
            "decision": ["helps", "helps"], "teacher_accuracy_on_h": [0.9, 0.9], "student_accuracy_on_h": [0.5, 0.5],
            "label_gain_low": [0.1, 0.1], "label_gain_high": [0.3, 0.3], "cch_score": rng.random(2),
            "cch_low": [0.1, 0.1], "cch_high": [0.2, 0.3], "label_gain": [0.2, 0.2],
            "note": [f"{TOO_FEW_PAIRS}: n=20", None], "rank": [None, None], "consensus": [None, None],
            "estimators_disagree": [False, False],
        })
        out = add_ranks(table, criterion)
        assert out["predicts_gain"].tolist() == [False, True], criterion


def test_a_teacher_of_one_class_is_refused():
    from cchkit.distill import distill

    bundle = cchkit.ModalityBundle.from_arrays({"s": A, "t": B}, labels={"s": Y, "t": np.zeros(N, int)},
                                               ids={"s": np.arange(N), "t": np.arange(N) + 1000})
    with pytest.raises(BundleError, match="single class"):
        distill(bundle, "s", "t", method="class-align", epochs=1, random_state=0, progress=False)


def test_train_size_below_the_number_of_classes_is_refused():
    from cchkit.distill import distill

    bundle = cchkit.ModalityBundle.from_arrays({"s": A, "t": B}, labels=Y)
    with pytest.raises(InputError, match="at least one sample of every class"):
        distill(bundle, "s", "t", method="class-align", epochs=1, train_size=2, random_state=0, progress=False)


def test_sinkhorn_that_does_not_converge_says_so():
    import torch

    from cchkit.distill.losses import SinkhornConvergenceWarning, sinkhorn_alignment

    g = torch.Generator().manual_seed(0)
    zs, zt = torch.randn(30, 4, generator=g), torch.randn(20, 4, generator=g) * 3
    for backend in ("native", "pot"):
        with pytest.warns(SinkhornConvergenceWarning, match="did not converge"):
            sinkhorn_alignment(zs, zt, eps=0.01, cost="l2", normalize=True, n_iter=2, tol=1e-12, backend=backend)


# ------------------------------------------------------------------ 7-8. outputs
def test_one_path_for_two_outputs_is_refused_before_work(tmp_path):
    out = tmp_path / "r.json"
    assert_user_error(run("rank", "-s", "audio", "-o", out, "--report", out), "one file cannot hold both")
    assert not out.exists()


def test_bad_report_path_fails_before_out_is_replaced(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("keep me")
    assert_user_error(run("rank", "-s", "audio", "-o", out, "--report", tmp_path / "no" / "r.html"), "--report")
    assert out.read_text() == "keep me"


def test_interruption_names_what_was_written(tmp_path, monkeypatch):
    import importlib

    from cchkit.cli import common

    out = tmp_path / "r.json"
    real = importlib.import_module("cchkit.cli._output").write_output

    def write_then_interrupt(text, path):
        real(text, path)
        if str(path).endswith(".html"):
            raise KeyboardInterrupt

    monkeypatch.setattr("cchkit.cli._output.write_output", write_then_interrupt)
    res = run("rank", "-s", "audio", "-c", "text", "-q", "-o", out, "--report", tmp_path / "r.html")
    assert res.exit_code == 130
    assert "interrupted after writing" in res.output and str(out) in res.output
    assert common.interrupted_message().startswith("interrupted after writing")


def test_import_never_replaces_a_dangling_symlink(tmp_path):
    df = pd.DataFrame({"a_0": A[:, 0], "b_0": B[:, 0], "label": Y})
    table = tmp_path / "t.csv"
    df.to_csv(table, index=False)
    link = tmp_path / "o.npz"
    link.symlink_to(tmp_path / "nowhere.npz")
    assert_user_error(run("import", table, "--out", link), "already exists")
    assert link.is_symlink() and not (tmp_path / "nowhere.npz").exists()


def test_a_legal_long_output_name_is_written(tmp_path):
    df = pd.DataFrame({"a_0": A[:, 0], "b_0": B[:, 0], "label": Y})
    table = tmp_path / "t.csv"
    df.to_csv(table, index=False)
    name = "x" * 246 + ".npz"  # 250 characters, under the usual 255 limit
    res = run("import", table, "--out", tmp_path / name)
    assert res.exit_code == 0, res.output
    res = run("info", "-d", tmp_path / name, "-o", tmp_path / ("y" * 250))
    assert res.exit_code == 0, res.output


# ------------------------------------------------------------------ 9. checksums through links
def test_checksum_is_checked_through_a_symlink(tmp_path):
    bundle = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y)
    path = bundle.save(tmp_path / "bdir")
    real = tmp_path / "elsewhere.npy"
    np.save(real, A + 1.0)  # tampered data
    os.replace(real, path / "stored.npy")
    (path / "a.npy").unlink()
    (path / "a.npy").symlink_to(path / "stored.npy")
    with pytest.raises(BundleFormatError, match="sha256"):
        cchkit.ModalityBundle.load(path)


# ------------------------------------------------------------------ 10. terminal escapes
def test_names_with_escape_sequences_are_printed_escaped(tmp_path):
    bundle = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=np.array(["x\x1b[31m", "y", "z"])[Y],
                                               name="evil\x1b]0;title\x07")
    path = bundle.save(tmp_path / "e.npz")
    for args in (("info", "-d", path), ("rank", "-d", path, "-s", "a", "-q")):
        res = run(*args)
        assert res.exit_code == 0, res.output
        assert "\x1b" not in res.output and "\x07" not in res.output
        assert "\\x1b" in res.output


# ------------------------------------------------------------------ 11. exit 2, one line
def _cli(*args, env=None):
    res = subprocess.run([sys.executable, "-m", "cchkit", *map(str, args)], capture_output=True,
                         env={**os.environ, **(env or {})}, timeout=300)
    res.stdout, res.stderr = res.stdout.decode("latin-1"), res.stderr.decode("latin-1")
    return res


def test_report_and_info_under_a_non_utf8_locale(tmp_path):
    bundle = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=np.array(["é", "ü", "ø"])[Y], name="näme")
    path = bundle.save(tmp_path / "u.npz")
    env = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": "latin-1"}
    res = _cli("info", "-d", path, env={**env, "PYTHONIOENCODING": "ascii"})
    assert res.returncode == 0, res.stderr
    report = tmp_path / "r.html"
    res = _cli("rank", "-d", path, "-s", "a", "-q", "--report", report, env=env)
    assert res.returncode == 0, res.stderr
    assert "näme" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("content, message", [
    ('{"name": {"x": 1}, "modalities": {"a": {}}}', "'name' must be a string"),
    ('{"modalities": {"a": {"file": ""}}}', "not a file name"),
    ('{"modalities": {"a": {"file": "a\\u0000.npy"}}}', "not a file name"),
    ('{"modalities": {"a": {}, "a": {}}}', "twice"),
])
def test_bad_bundle_json(tmp_path, content, message):
    (tmp_path / "bundle.json").write_text(content)
    assert_user_error(run("info", "-d", tmp_path), message)


@pytest.mark.parametrize("suffix", [".h5ad", ".h5mu"])
def test_random_bytes_scverse_file(tmp_path, suffix):
    pytest.importorskip("anndata")
    path = tmp_path / f"x{suffix}"
    path.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    assert_user_error(run("import", path, "--out", tmp_path / "o.npz"), "could not be read")


@pytest.mark.parametrize("address", ["not a url", "tcp://127.0.0.1", "tls://127.0.0.1:8786", ""])
def test_malformed_scheduler(address):
    assert_user_error(run("rank", "-s", "audio", "--backend", "dask", "--scheduler", address, "-q"), "scheduler")


def test_unreachable_scheduler_fails_in_seconds():
    pytest.importorskip("distributed")
    import socket
    import time

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    res = run("rank", "-s", "audio", "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}", "--n-jobs", "2", "-q")
    assert res.exit_code == 2, res.output
    assert time.perf_counter() - t0 < 20


def test_torch_meta_tensor_is_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(InputError, match="meta"):
        cchkit.mutual_info(torch.empty(50, 2, device="meta"), Y[:50] if N >= 50 else Y)


@pytest.mark.parametrize("bad", [True, -1, 1.5])
def test_random_state_must_be_a_seed(bad):
    with pytest.raises(InputError, match="random_state"):
        cchkit.get_estimator("gaussian", random_state=bad)
    with pytest.raises(InputError, match="random_state"):
        cchkit.rank_teachers("digits-avt", "audio", ["text"], random_state=bad)


def test_one_broken_bundle_does_not_hide_the_others(tmp_path, monkeypatch):
    good = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y)
    good.save(tmp_path / "good")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "bundle.json").write_text('{"modalities": {"a": {}}}')
    monkeypatch.setenv("CCHKIT_DATA_DIR", str(tmp_path))
    res = run("datasets", "-f", "json")
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)["rows"]}
    assert rows["good"]["n"] == N and rows["bad"]["modalities"] == "(unreadable)"


def test_data_dir_that_is_a_file(tmp_path, monkeypatch):
    f = tmp_path / "f"
    f.write_text("")
    monkeypatch.setenv("CCHKIT_DATA_DIR", str(f))
    assert_user_error(run("datasets"), "not a directory")


def test_ctrl_c_while_importing_is_one_line(tmp_path):
    """The console script's launcher catches an interrupt raised while cchkit imports."""
    code = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == 'cchkit.cli.app': raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "import cchkit_launcher\n"
        "cchkit_launcher.main()\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 130 and "Traceback" not in res.stderr
    assert res.stderr.strip() == "interrupted: nothing was written."


def test_validate_records_a_teacher_the_input_rules_out_and_measures_the_others():
    from cchkit.validation import validate

    rng = np.random.default_rng(0)
    n = 120
    y = rng.integers(0, 3, n)
    bundle = cchkit.ModalityBundle.from_arrays(
        {"s": rng.standard_normal((n, 3)) + y[:, None], "t": rng.standard_normal((n, 4)) - y[:, None],
         "one": rng.standard_normal((n, 4))},
        labels={"s": y, "t": y, "one": np.zeros(n, int)},
        ids={"s": np.arange(n), "t": np.arange(n), "one": np.arange(n) + 1000})
    rep = validate(bundle, "s", ["t", "one"], baseline="no-kd", seeds=3, progress=False, epochs=2, min_steps=0, feat_dim=8)
    rows = rep.table.set_index("teacher")
    assert "single class" in rows.loc["one", "error"] and math.isnan(rows.loc["one", "gain"])
    assert rows.loc["t", "error"] == "" and math.isfinite(rows.loc["t", "gain"])


def test_auto_device_picks_the_gpu_only_where_it_pays(monkeypatch):
    """The device rule (issue #26): with CUDA visible, "auto" is CUDA only for work measured faster there."""
    import torch

    from cchkit._torch import GPU_MIN_ROWS_NEURAL, resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cpu"  # the distiller, the encoders
    assert resolve_device("auto", gpu_pays=True).type == "cuda"
    assert resolve_device("cpu", gpu_pays=True).type == "cpu"  # an explicit device is obeyed
    assert GPU_MIN_ROWS_NEURAL == 10_000


def test_each_caveat_is_printed_once_and_on_stderr_only():
    """Issue #27: the KSG dimension warning was printed twice (logged and warned), and the label
    checks went to stdout and stderr."""
    res = _cli("rank", "-s", "audio", "-c", "image", "-e", "ksg", "-r", "raw", "--n-bootstrap", "5")
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("KSG in 56 total dimensions") == 1
    res = _cli("rank", "-s", "audio", "-c", "image,text", "--n-bootstrap", "20")
    assert "raised to its variational lower bound" not in res.stdout
    assert res.stderr.count("I(image;Y) =") == 1
