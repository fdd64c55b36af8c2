"""The red team's third round (issue #37), rebuilt from its descriptions: each case failed on
commit 94a7506 (a class named 'None', a silent switch, a traceback, a printed password)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cchkit
from cchkit import ModalityBundle, validate
from cchkit.cli import app
from cchkit.criteria import Criterion, regimes, register_criterion
from cchkit.criteria import track_record as tr
from cchkit.exceptions import CchkitError, InputError
from cchkit.runlog import check_log, redact

runner = CliRunner()


def _frame(n: int = 30) -> pd.DataFrame:
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(n, 4)), columns=["a_0", "a_1", "b_0", "b_1"])
    df["label"] = ["x", "y", "z"] * (n // 3)
    return df


# ---------------------------------------------------------------- 1, 2: what a table holds
def test_import_of_a_csv_with_empty_label_cells_keeps_them_unlabeled(tmp_path):
    df = _frame()
    df.loc[[1, 2, 3, 4, 5], "label"] = None
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    res = runner.invoke(app, ["import", str(path), "--label", "label", "--out", str(tmp_path / "b.npz")])
    assert res.exit_code == 0, res.output
    b = ModalityBundle.load(tmp_path / "b.npz")
    assert list(b.classes) == ["x", "y", "z"]  # three classes, not four
    assert b.n_unlabeled("a") == 5
    # the summary counts the table's rows (samples), not one row per modality (it said 10)
    assert "5 samples without a label" in res.output, res.output


def test_a_complex_column_is_refused_not_cut_to_its_real_part():
    df = _frame()
    df["a_1"] = df["a_1"] + 1j
    with pytest.raises(CchkitError, match="complex columns"):
        ModalityBundle.from_dataframe(df)


def test_the_data_digest_tells_text_ids_from_integer_ids():
    x = np.random.default_rng(0).normal(size=(12, 2))
    a = ModalityBundle.from_arrays({"m": x}, labels=[0, 1] * 6, ids=np.arange(12))
    b = ModalityBundle.from_arrays({"m": x}, labels=[0, 1] * 6, ids=np.arange(12).astype(str))
    assert a.digest() != b.digest()


# ---------------------------------------------------------------- 3: a setting no method reads
def test_a_ucmkd_setting_without_ucmkd_is_refused_by_name():
    with pytest.raises(InputError, match="'inner_lr' is a setting of ucmkd"):
        validate("digits-avt", "audio", "image", baseline="no-kd", methods=["class-align"], inner_lr=1e-3, seeds=3, progress=False)


def test_a_ucmkd_setting_leaves_the_other_methods_in_their_tuned_stacks():
    from cchkit.validation.stacked import stackable_methods

    assert stackable_methods(["none", "class-align", "ucmkd"], {"inner_lr": 1e-3}) == ["none", "class-align"]
    assert stackable_methods(["none", "class-align"], {"class_targets": "sample"}) == ["none"]


# ---------------------------------------------------------------- 5: a criterion cannot overwrite a column
def _criterion(column: str) -> type:
    class Trial(Criterion):
        helps_when = "never"

        def compute(self, inputs):  # noqa: ANN001
            return {column: 0.5}

        def decide(self, table):  # noqa: ANN001
            return pd.Series("inconclusive", index=table.index)

    Trial.column, Trial.columns = column, (column,)
    return Trial


@pytest.mark.parametrize("name, column, message", [
    ("trial-a", "cch_score", "would overwrite the column.*cch_score"),
    ("trial-b", "teacher", "would overwrite the column.*teacher"),
    ("", "trial_col", "non-empty name"),
])
def test_a_criterion_that_clashes_is_refused(name, column, message):
    with pytest.raises(InputError, match=message):
        register_criterion(name)(_criterion(column))


# ---------------------------------------------------------------- 6, 8: the shipped track record
@pytest.fixture()
def bad_record(tmp_path, monkeypatch):
    def write(content: str):
        path = tmp_path / "track_record.json"
        path.write_text(content)
        monkeypatch.setattr(tr, "TRACK_FILE", path)
        monkeypatch.setattr(regimes, "REGIME_FILE", tmp_path / "no_regime_study.json")  # the full-label study decides
        tr.load_track_record.cache_clear()
        regimes.load_regime_records.cache_clear()
        return path

    yield write
    tr.load_track_record.cache_clear()
    regimes.load_regime_records.cache_clear()


GOOD = {"default": "label_gain", "criteria": {"label_gain": {"band": [None, 0.1], "held_out_sign_right": 2,
                                                             "held_out_committed": 3, "held_out_significant": 5}}}


@pytest.mark.parametrize("content, message", [
    (json.dumps({**GOOD, "criteria": {"label_gain": {"band": [0.5, 0.1]}}}), "low end 0.5 above its high end 0.1"),
    (json.dumps({**GOOD, "criteria": {"label_gain": {"band": [None, 0.1], "held_out_sign_right": 60,
                                                     "held_out_committed": 49, "held_out_significant": 49}}}),
     "more right signs"),
    (json.dumps({**GOOD, "default": "no_such_criterion"}), "is not registered"),
    (json.dumps({**GOOD, "criteria": {"label_gain": {"band": ["a", "b"]}}}), "two numbers or nulls"),
    ("[1, 2]", "expected a JSON object"),
    ("{not json", "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
])
def test_a_bad_track_record_is_one_line_naming_the_field(bad_record, content, message):
    bad_record(content)
    with pytest.raises(InputError, match=message):
        tr.load_track_record()
    assert runner.invoke(app, ["datasets"]).exit_code == 0  # a command that uses no criterion never reads it
    res = runner.invoke(app, ["rank", "-s", "audio", "-c", "image", "--n-bootstrap", "10", "--quiet"])
    assert res.exit_code == 2 and "track_record.json" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("content, message", [
    (json.dumps({"regimes": {"all-same": {"criteria": {"label_gain": {"band": [0.1]}}}}}), "two numbers or nulls"),
    ("{not json", "not valid JSON"),
])
def test_a_bad_regime_record_is_one_line_naming_the_file(tmp_path, monkeypatch, content, message):
    path = tmp_path / "regime_records.json"
    path.write_text(content)
    monkeypatch.setattr(regimes, "REGIME_FILE", path)
    regimes.load_regime_records.cache_clear()
    try:
        res = runner.invoke(app, ["rank", "-s", "audio", "-c", "image", "--n-bootstrap", "10", "--quiet"])
        assert res.exit_code == 2 and "regime_records.json" in res.output and message in res.output
        assert "Traceback" not in res.output
    finally:
        regimes.load_regime_records.cache_clear()


def test_the_good_record_reads(bad_record):
    bad_record(json.dumps(GOOD))
    assert tr.load_track_record().default == "label_gain"


# ---------------------------------------------------------------- 9, 10, 14: trackers
def test_mlflow_missing_is_refused_before_any_work(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_mlflow(name, *args, **kwargs):  # noqa: ANN001
        if name == "mlflow":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mlflow)
    with pytest.raises(InputError, match="needs MLflow"):
        check_log("mlflow")


def test_an_unreachable_server_is_one_line_without_its_password(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://user:s3cretTOKEN@127.0.0.1:9")
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["rank", "-s", "audio", "-c", "image", "--log", "mlflow", "--out", str(out), "--quiet"])
    assert res.exit_code == 2
    assert "s3cretTOKEN" not in res.output and "does not answer" in res.output
    assert not out.exists()  # checked before any work


def test_an_unwritable_store_is_refused_before_any_work(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (blocker / "store").as_uri())
    with pytest.raises(InputError, match="cannot be written"):
        check_log("mlflow")


def test_credentials_are_removed_from_uris():
    assert redact("http://user:pa55@host:5000/x") == "http://***@host:5000/x"
    assert redact("see https://tok@example.org and file:///tmp/x") == "see https://***@example.org and file:///tmp/x"


# ---------------------------------------------------------------- 12: usage errors
def test_a_usage_error_is_one_line_and_exit_2():
    res = subprocess.run([sys.executable, "-m", "cchkit", "rank", "--studnt", "audio"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: No such option: --studnt")


# ---------------------------------------------------------------- 11: scverse and plots
def test_tl_refuses_an_uns_entry_that_is_not_its_own():
    anndata = pytest.importorskip("anndata")
    from cchkit import tl

    rng = np.random.default_rng(0)
    ad = anndata.AnnData(X=rng.normal(size=(60, 4)), obs=pd.DataFrame({"y": ["a", "b", "c"] * 20},
                                                                        index=[f"c{i}" for i in range(60)]))
    ad.obsm["pca"] = rng.normal(size=(60, 3))
    ad.uns["cchkit"] = "someone else's note"
    with pytest.raises(InputError, match=r"holds a str, not cchkit's results"):
        tl.rank_teachers(ad, student="X", label_key="y", n_bootstrap=10, progress=False)
    assert ad.uns["cchkit"] == "someone else's note"


def test_a_bogus_criterion_in_a_validation_plot_is_one_line():
    from cchkit.plotting import plot_validation
    from cchkit.validation import ValidationReport

    report = ValidationReport(table=pd.DataFrame({"teacher": ["a"], "method": ["m"], "gain": [0.1]}),
                              summary={"method": "m"})
    with pytest.raises(InputError, match="unknown criterion 'bogus'"):
        plot_validation(report, criterion="bogus")


# ---------------------------------------------------------------- 7: every setting that changes the numbers
def test_no_tune_is_in_the_recorded_command_and_the_provenance(tmp_path):
    page = tmp_path / "v.html"
    res = runner.invoke(app, ["validate", "--baseline", "no-kd", "-s", "audio", "-c", "image", "--method", "class-align", "--seeds", "2",
                              "--epochs", "2", "--no-tune", "--quiet", "--report", str(page)])
    assert res.exit_code == 0, res.output
    html = page.read_text()
    assert "--no-tune" in html
    assert "<th>tune</th><td style=\"text-align:left\">no</td>" in html


# ---------------------------------------------------------------- 13: a summary, not a 139,000-character line
def test_importing_thousands_of_modalities_prints_a_summary(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(20, 3000)), columns=[f"m{i}_0" for i in range(3000)])
    df["label"] = np.arange(20) % 2
    df.to_csv(tmp_path / "wide.csv", index=False)
    res = runner.invoke(app, ["import", str(tmp_path / "wide.csv"), "--label", "label", "--out", str(tmp_path / "w.npz")])
    assert res.exit_code == 0, res.output
    assert "3,000 modalities" in res.output and "2,988 more" in res.output
    assert max(len(line) for line in res.output.splitlines()) < 600


def test_the_advise_page_opens_with_advises_own_answer():
    from cchkit.report import validation_report
    from cchkit.validation import ValidationReport

    t = pd.DataFrame({"teacher": ["image"], "method": ["class-align"], "acc_none": [0.7], "acc_probe": [0.7],
                      "acc": [0.72], "gain": [0.02], "gain_low": [0.01], "gain_high": [0.03], "significant": [True],
                      "decision": ["helps"], "cch_score": [0.1], "cch_low": [0.0], "cch_high": [0.2]})
    report = ValidationReport(table=t, summary={"student": "audio", "method": "class-align",
                                                "verdict": {"text": "advice (label_gain): use image."}})
    page = validation_report(report, answer="Use text as the teacher of audio.")
    assert "<title>cchkit advice" in page
    first = page.index("Advice: Use text as the teacher of audio.")
    assert first < page.index("advice (label_gain): use image.")


def test_duplicated_columns_are_found_by_value_wherever_they_sit():
    """A column equal to another (-0.0 and 0.0 are one value) is named, and columns that only
    share their sum are not duplicates."""
    import cchkit._validation as validation

    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 5))
    x[:, 4] = x[:, 1]
    x[0, 1], x[0, 4] = 0.0, -0.0
    x[:, 3] = x[::-1, 0]  # the same values in another order: not a duplicate
    assert validation.find_duplicate_columns(x) == [(1, 4)]
    with pytest.raises(cchkit.InputError, match=r"column 4 equals column 1"):
        cchkit.estimate_mi(x, rng.normal(size=(50, 1)), estimator="gaussian")


def test_a_ranking_shows_one_bar_over_all_its_steps_with_the_time_left(capsys):
    """Representations, every estimate and the criteria count in one bar (so its time left
    covers the whole ranking); progress=False writes nothing."""
    import re

    cchkit.rank_teachers("wdbc", "mean", n_bootstrap=20, progress=True)
    err = capsys.readouterr().err
    totals = {int(t) for t in re.findall(r"ranking:.*?\d+/(\d+) \[", err)}
    assert max(totals) > 3, err  # 1 representation step + several estimates + the criteria
    assert all(stage in err for stage in ("representations", "MI estimates", "criteria"))
    assert re.search(r"<\d\d:\d\d", err)  # tqdm's estimate of the time left
    cchkit.rank_teachers("wdbc", "mean", n_bootstrap=20, progress=False)
    assert capsys.readouterr().err == ""


def test_the_bootstrap_in_small_chunks_draws_the_same_resamples(monkeypatch):
    """Bounding the resample weights held at once (a million rows held 200 resamples: 3.7 GB)
    must not change an interval: the chunks draw the same resamples from the same generator."""
    import cchkit.estimators.gaussian as gaussian

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    x = rng.normal(size=(400, 2)) + y[:, None]
    z = x[:, :1] + rng.normal(size=(400, 1))
    whole = [cchkit.estimate_mi(x, t, estimator="gaussian", n_bootstrap=30, random_state=1) for t in (y, z)]
    monkeypatch.setattr(gaussian, "_BOOTSTRAP_WEIGHTS", 1000)  # at most 2 resamples of 400 rows at a time
    chunked = [cchkit.estimate_mi(x, t, estimator="gaussian", n_bootstrap=30, random_state=1) for t in (y, z)]
    for a, b in zip(whole, chunked):
        assert a.ci == b.ci and a.value == b.value and "bootstrap" in a.ci_method


def test_a_seed_beyond_64_bits_gives_an_answer_and_the_same_one_twice():
    args = ["rank", "-d", "wdbc", "-s", "mean", "--n-bootstrap", "20", "--seed", str(2**70), "-f", "json"]
    first, second = runner.invoke(app, args), runner.invoke(app, args)
    assert first.exit_code == 0 and '"teacher"' in first.output, first.output
    assert first.output == second.output


@pytest.mark.parametrize("estimator", ["ksg", "gaussian"])
@pytest.mark.parametrize("labels", [False, True])
def test_an_estimate_at_tiny_n_is_one_input_error(estimator, labels):
    rng = np.random.default_rng(0)
    y = np.array([0, 1, 0]) if labels else rng.normal(size=(3, 1))
    with pytest.raises(InputError, match="needs at least|sample"):
        cchkit.estimate_mi(rng.normal(size=(3, 1)), y, estimator=estimator)


def test_a_dataframe_column_with_an_index_belongs_to_everything_before_it():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 5)),
                      columns=["rna_seq_0", "rna_seq_1", "atac_0", "atac_1", "audio_mfcc"])
    df["label"] = ["x", "y", "z"] * 10
    assert cchkit.load_bundle(df).names == ["rna_seq", "atac", "audio"]
    by_sep = df.rename(columns=lambda c: c.replace("_", ".", 1) if c != "label" else c)
    assert cchkit.load_bundle(by_sep, sep=".").names == ["rna", "atac", "audio"]
    mapped = cchkit.load_bundle(df, modalities={"omics": ["rna_seq_0", "rna_seq_1", "atac_0"], "a": ["atac_1"]})
    assert mapped.names == ["omics", "a"]


@pytest.mark.parametrize("kwargs, message", [
    ({"sep": "."}, r"sep= does not apply to a dataset \(it applies to dataframe\)"),
    ({"modalities": {"a": "X"}}, r"modalities= does not apply to a dataset \(it applies to dataframe, mudata, anndata\)"),
])
def test_a_grouping_for_data_that_cannot_use_it_is_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        cchkit.load_bundle("wdbc", **kwargs)


def test_the_rank_table_shows_the_deciding_number_and_its_threshold_in_rank_order():
    from cchkit.criteria import helps_threshold

    res = runner.invoke(app, ["rank", "-d", "digits-avt", "-s", "audio", "--n-bootstrap", "20", "-q"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    header = next(ln for ln in lines if ln.lstrip().startswith("teacher"))
    r = cchkit.rank_teachers("digits-avt", "audio", n_bootstrap=20)
    regime = r.settings["label_regime"]  # every label: the study of that regime decides
    crit = cchkit.criteria.default_criterion(regime)
    assert regime == "all-same" and r.settings["criterion"] == crit
    assert f"{crit} (helps > {helps_threshold(crit, regime):.3g})" in header
    assert header.index(crit) < header.index("CCH score")  # the number that decides comes first
    assert list(r.table["rank"]) == sorted(r.table["rank"])  # the table itself is in rank order
    assert (r.table["criterion_threshold"] == helps_threshold(crit, regime)).all()
    assert np.allclose(r.table["criterion_value"], cchkit.criteria.get_criterion(crit).signal(r.table))
    assert "criterion_value" in repr(r)


def test_an_order_of_teachers_is_not_claimed_over_gains_within_noise():
    from cchkit.validation.validate import criterion_stats, gains_separated

    t = pd.DataFrame({"teacher": ["a", "b", "c"], "gain": [0.03, 0.02, 0.01], "gain_low": [0.01, 0.0, -0.01],
                      "gain_high": [0.05, 0.04, 0.03], "significant": [True, False, False],
                      "cch_score": [0.3, 0.2, 0.1], "cch_low": [0.2, 0.1, 0.0], "cch_high": [0.4, 0.3, 0.2]})
    assert not gains_separated(t) and criterion_stats(t, "cch_score")["gains_separated"] is False
    apart = t.assign(gain=[0.10, 0.02, 0.01], gain_low=[0.08, 0.0, -0.01], gain_high=[0.12, 0.04, 0.03])
    assert gains_separated(apart) and criterion_stats(apart, "cch_score")["top_is_best"] is True


def test_an_input_format_is_one_function_and_a_registration():
    """The trial: a plain dict of arrays (modality -> matrix, plus the labels) becomes readable
    by every entry point that loads data, with no list edited."""
    from cchkit.bundle.readers import register_reader, unregister_reader

    @register_reader("dict-of-arrays", accepts=lambda o: isinstance(o, dict) and "label" in o)
    def from_dict(obj, *, label, **_):
        return ModalityBundle.from_arrays({k: v for k, v in obj.items() if k != label}, labels=obj[label])

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    data = {"a": rng.normal(size=(120, 3)) + y[:, None], "b": rng.normal(size=(120, 2)) + y[:, None], "label": y}
    try:
        assert cchkit.load_bundle(data).names == ["a", "b"]
        assert len(cchkit.rank_teachers(data, "a", n_bootstrap=20).table) == 1
        with pytest.raises(InputError, match=r"sep= does not apply to a dict-of-arrays"):
            cchkit.load_bundle(data, sep=".")
    finally:
        unregister_reader("dict-of-arrays")
    with pytest.raises(InputError, match="cannot make a bundle from a dict"):
        cchkit.load_bundle(data)


def test_a_ranking_of_label_scarce_data_says_whose_record_it_gives():
    """The ranking uses the labelled rows only; with unlabeled rows in the data it says that its
    track record is of fully labelled data and where the label-scarce answer is."""
    import warnings

    from cchkit.ranking.verdict import advice_lines

    rng = np.random.default_rng(0)
    n = 600
    y = rng.integers(0, 3, n)
    df = pd.DataFrame(np.c_[y[:, None] + rng.normal(size=(n, 3)), y[:, None] + rng.normal(size=(n, 2))],
                      columns=["a_0", "a_1", "a_2", "b_0", "b_1"])
    df["label"] = y.astype(float)
    df.loc[rng.random(n) < 0.5, "label"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = cchkit.rank_teachers(df, "a", n_bootstrap=20)
    n_unl = int(df["label"].isna().sum())
    assert r.settings["unlabeled_rows"] == {"a": n_unl, "b": n_unl}
    regime = [ln for ln in advice_lines(r) if ln.startswith("regime: ")]
    assert regime == [regime[0]] and f"a has {n_unl:,} unlabeled rows" in regime[0] and "cchkit advise" in regime[0]
    full = cchkit.rank_teachers("wdbc", "mean", n_bootstrap=20)
    assert "unlabeled_rows" not in full.settings and not any(ln.startswith("regime") for ln in advice_lines(full))


# ---------------------------------------------------------------- a row without a label is no class
def test_estimate_with_the_labels_sets_unlabeled_rows_aside(tmp_path):
    """`estimate -y label` took every row's label code, so the unlabeled rows (-1) were one more
    class: a bundle with 10 of 30 rows unlabeled gave n=30 and another number. It now estimates
    on the labelled rows (the number the estimator gives on them) and says how many it set aside."""
    from cchkit.estimators import get_estimator

    df = _frame()
    df.loc[list(range(0, 30, 3)), "label"] = None
    df.to_csv(tmp_path / "t.csv", index=False)
    assert runner.invoke(app, ["import", str(tmp_path / "t.csv"), "--out", str(tmp_path / "b.npz")]).exit_code == 0
    res = runner.invoke(app, ["estimate", "-d", str(tmp_path / "b.npz"), "-x", "a", "-y", "label", "-e", "gaussian",
                              "--n-bootstrap", "20", "-f", "json"])
    assert res.exit_code == 0, res.output
    assert "10 unlabeled row(s) set aside" in res.output
    row = json.loads(res.output[res.output.index("{"):])["rows"][0]
    b = ModalityBundle.load(tmp_path / "b.npz")
    keep = b.labelled_mask("a")
    expected = get_estimator("gaussian", random_state=0, n_bootstrap=20).estimate(b["a"].data[keep], b["a"].labels[keep],
                                                                                 discrete_y=True)
    assert row["n"] == 20 and row["value"] == pytest.approx(expected.value, rel=1e-9)


def test_distill_takes_a_bundled_datasets_name_like_validate():
    """distill("wdbc", ...) raised AttributeError ('str' object has no attribute 'modality');
    validate, rank and advise take a name or a path, and so does distill now."""
    from cchkit.distill import distill

    by_name = distill("wdbc", "mean", "se", random_state=0, epochs=2)
    by_bundle = distill(cchkit.load_bundle("wdbc"), "mean", "se", random_state=0, epochs=2)
    assert by_name.accuracy == by_bundle.accuracy and by_name.n_test == by_bundle.n_test


@pytest.mark.parametrize("args, refused", [
    (["-e", "mine", "--n-bootstrap", "50"], "n_bootstrap"),  # MINE's interval is not a bootstrap
    (["-e", "ksg", "--device", "cpu"], "device"),  # KSG runs on numba kernels, not torch
])
def test_estimate_refuses_an_option_its_estimator_does_not_take(args, refused):
    """`estimate -e mine --n-bootstrap 50` printed MINE's estimate and dropped the option: a value
    the user gives is used or refused, in one line with exit 2."""
    res = runner.invoke(app, ["estimate", "-x", "audio", "-y", "image", "-q", *args])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error: ") and refused in res.output and len(res.output.strip().splitlines()) == 1


def test_estimate_uses_the_bootstrap_size_it_is_given():
    res = runner.invoke(app, ["estimate", "-x", "audio", "-y", "image", "-e", "gaussian", "--n-bootstrap", "30", "-q"])
    assert res.exit_code == 0, res.output
    assert "bootstrap (30 resamples" in res.output
