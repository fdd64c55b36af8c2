"""cchkit.plotting on the Agg backend: artists, labels, one-row and degenerate results."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import cchkit  # noqa: E402
from cchkit import plotting  # noqa: E402
from cchkit.distill import DistillResult  # noqa: E402
from cchkit.ranking import RANKING_COLUMNS, Ranking  # noqa: E402
from cchkit.validation import ValidationReport  # noqa: E402
from cchkit.validation.validate import REPORT_COLUMNS  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------------- hand-made results
def _ranking_row(student, teacher, score, low, high, decision, estimator="gaussian", **extra):
    row = {c: np.nan for c in RANKING_COLUMNS}
    row.update(student=student, teacher=teacher, estimator=estimator, variant="raw", representation="pca",
               n_pairs=100, cch_score=score, cch_low=low, cch_high=high, decision=decision, error=None,
               i_teacher_student=score + 0.5, i_student_label=0.5, teacher_accuracy_on_h=0.9, student_accuracy_on_h=0.6)
    row.update(extra)
    return row


def make_ranking(rows, estimators=("gaussian",)) -> Ranking:
    table = pd.DataFrame(rows, columns=RANKING_COLUMNS)
    ok = table["error"].isna()
    table.loc[ok, "rank"] = table[ok].groupby(["student", "estimator"])["cch_score"].rank(ascending=False)
    table["rank"] = table["rank"].astype("Int64")
    return Ranking(table=table, settings={"estimators": list(estimators)})


@pytest.fixture
def ranking3() -> Ranking:
    return make_ranking([
        _ranking_row("s", "good", 0.4, 0.2, 0.6, "helps"),
        _ranking_row("s", "bad", -0.3, -0.5, -0.1, "hurts"),
        _ranking_row("s", "meh", 0.05, -0.1, 0.2, "inconclusive"),
        _ranking_row("s", "good", 0.1, 0.0, 0.2, "inconclusive", estimator="ksg"),
    ], estimators=("gaussian", "ksg"))


def make_report(teachers, gains, scores, *, n_seeds=3, method="ucmkd", intervals=True) -> ValidationReport:
    rows = []
    for t, g, c in zip(teachers, gains, scores):
        row = {col: np.nan for col in REPORT_COLUMNS}
        row.update(student="s", teacher=t, method=method, n_seeds=n_seeds, acc_none=0.6, acc=0.6 + g, gain=g,
                   gain_low=g - 0.02 if intervals else np.nan, gain_high=g + 0.02 if intervals else np.nan,
                   significant=intervals and abs(g) > 0.02, cch_score=c,
                   cch_low=c - 0.1 if intervals else np.nan, cch_high=c + 0.1 if intervals else np.nan,
                   decision="helps" if c > 0 else "hurts", teacher_accuracy_on_h=0.8, i_teacher_label=0.7,
                   i_teacher_student=c + 0.4, mfh_score=0.5, error="")
        rows.append(row)
    return ValidationReport(table=pd.DataFrame(rows, columns=REPORT_COLUMNS),
                            summary={"method": method, "student": "s"})


def make_distill_result(method="ucmkd", seed=0, epochs=5, start=0.5) -> DistillResult:
    curve = [{"epoch": e + 1, "lr": 0.01, "loss": 1.0 / (e + 1), "ce": 1.0 / (e + 1), "fa": math.nan,
              "la": math.nan, "kd": math.nan, "train_accuracy": start + 0.05 * e,
              "test_accuracy": start + 0.04 * e + 0.01 * seed} for e in range(epochs)]
    return DistillResult(student="s", teacher="t", method=method, seed=seed, accuracy=curve[-1]["test_accuracy"],
                         teacher_net_accuracy=0.9, curve=curve, seconds=0.1, params={})


def _errorbar_containers(ax):
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def _bars(ax):
    return [p for c in ax.containers if isinstance(c, BarContainer) for p in c.patches]


# ---------------------------------------------------------------------- plot_ranking
def test_plot_ranking_bars_errorbars_labels(ranking3):
    ax = plotting.plot_ranking(ranking3)
    bars = _bars(ax)
    assert len(bars) == 3  # one per teacher of the primary estimator (gaussian), not the ksg row
    widths = sorted(b.get_width() for b in bars)
    assert widths == pytest.approx([-0.3, 0.05, 0.4])
    eb = _errorbar_containers(ax)
    assert len(eb) == 1
    segs = eb[0].lines[2][0].get_segments()
    assert len(segs) == 3
    # the 'good' bar's interval runs from 0.2 to 0.6
    assert any(np.allclose(sorted(s[:, 0]), [0.2, 0.6]) for s in segs)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bad", "meh", "good"]  # ascending score
    assert "CCH score" in ax.get_xlabel() and ax.get_ylabel() == "teacher (best-ranked on top)"
    assert "gaussian" in ax.get_title()
    legend = ax.get_legend()
    assert {t.get_text() for t in legend.get_texts()} - {"helps", "hurts", "inconclusive"} <= {"helps above 11"}
    colours = {b.get_facecolor()[:3] for b in bars}
    assert len(colours) == 3


def test_plot_ranking_draws_the_deciding_criterion_in_rank_order_with_its_threshold():
    """Ranked by label_gain, the bars are label gains (not CCH scores), best-ranked on top,
    coloured by the criterion's advice, with the study's threshold drawn."""
    from cchkit.criteria.track_record import load_track_record

    rows = [_ranking_row("s", t, cch, cch - 0.1, cch + 0.1, "hurts", label_gain=g, label_gain_low=g - 0.05,
                         label_gain_high=g + 0.05, advice=a)
            for t, cch, g, a in (("a", 0.5, 0.02, "inconclusive"), ("b", -0.4, 0.30, "helps"), ("c", 0.1, 0.15, "helps"))]
    table = pd.DataFrame(rows, columns=RANKING_COLUMNS)
    table["rank"] = table["label_gain"].rank(ascending=False).astype("Int64")
    ax = plotting.plot_ranking(Ranking(table=table, settings={"estimators": ["gaussian"], "criterion": "label_gain"}))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "c", "b"]  # b (rank 1) on top
    assert sorted(b.get_width() for b in _bars(ax)) == pytest.approx([0.02, 0.15, 0.30])
    assert "label gain" in ax.get_xlabel() and "decided by label_gain" in ax.get_title()
    threshold = load_track_record().bands["label_gain"][1]
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_xdata()[0] == pytest.approx(threshold)
    colours = [b.get_facecolor()[:3] for b in _bars(ax)]
    assert colours[1] == colours[2] != colours[0]  # both "helps" by the criterion, though the CCH says hurts


def test_plot_ranking_other_estimator_and_method_alias(ranking3):
    ax = plotting.plot_ranking(ranking3, estimator="ksg")
    assert len(_bars(ax)) == 1 and "ksg" in ax.get_title()
    ax2 = ranking3.plot()
    assert len(_bars(ax2)) == 3


def test_plot_ranking_one_row_and_failed_row():
    one = make_ranking([_ranking_row("s", "t", 0.1, np.nan, np.nan, "inconclusive")])
    ax = plotting.plot_ranking(one)
    assert len(_bars(ax)) == 1 and not _errorbar_containers(ax)  # no interval: no error bar
    failed = _ranking_row("s", "x", np.nan, np.nan, np.nan, "failed", error="NotPairedError: no pairs")
    two = make_ranking([_ranking_row("s", "t", 0.1, 0.0, 0.2, "helps"), failed])
    ax = plotting.plot_ranking(two)
    assert len(_bars(ax)) == 2
    assert len(_errorbar_containers(ax)[0].lines[2][0].get_segments()) == 1
    assert "failed" in {t.get_text() for t in ax.get_legend().get_texts()}


def test_plot_ranking_interval_not_containing_score_does_not_raise():
    r = make_ranking([_ranking_row("s", "t", 0.3, 0.35, 0.5, "helps")])
    ax = plotting.plot_ranking(r)  # negative error length is clipped, matplotlib would refuse it
    (segment,) = _errorbar_containers(ax)[0].lines[2][0].get_segments()
    ends = sorted(float(v) for v in segment[:, 0]) if np.ptp(segment[:, 0]) else sorted(float(v) for v in segment[:, 1])
    assert ends == pytest.approx([0.3, 0.5])  # the bar runs from the score (clipped) to the interval's top


def test_plot_ranking_unknown_student_raises(ranking3):
    with pytest.raises(ValueError, match="student"):
        plotting.plot_ranking(ranking3, student="nobody")


def test_plot_ranking_on_given_axes_returns_it(ranking3):
    fig, axes = plt.subplots(1, 2)
    assert plotting.plot_ranking(ranking3, ax=axes[1]) is axes[1]
    assert not _bars(axes[0])


# ---------------------------------------------------------------------- plot_mi_matrix
def test_plot_mi_matrix_cells_and_texts():
    rows = [_ranking_row(s, t, v, v - 0.1, v + 0.1, "helps" if v > 0 else "hurts")
            for (s, t), v in {("a", "b"): 0.2, ("a", "c"): -0.1, ("b", "a"): 0.3, ("b", "c"): 0.0,
                              ("c", "a"): -0.4, ("c", "b"): 0.1}.items()]
    r = make_ranking(rows)
    ax = plotting.plot_mi_matrix(r)
    assert len(ax.images) == 1
    assert ax.images[0].get_array().shape == (3, 3)
    assert len(ax.texts) == 6  # the diagonal (a modality teaching itself) is empty
    assert ax.get_xlabel() == "student" and ax.get_ylabel() == "teacher"
    lo, hi = ax.images[0].get_clim()
    assert lo == pytest.approx(-0.4) and hi == pytest.approx(0.4)  # symmetric around 0
    ax2 = plotting.plot_mi_matrix(r, value="i_teacher_student", annotate=False)
    assert not ax2.texts


def test_plot_mi_matrix_one_cell_and_all_nan():
    r = make_ranking([_ranking_row("s", "t", 0.0, -0.1, 0.1, "inconclusive")])
    ax = plotting.plot_mi_matrix(r)
    assert len(ax.texts) == 1
    r2 = make_ranking([_ranking_row("s", "t", np.nan, np.nan, np.nan, "failed", error="x")])
    ax2 = plotting.plot_mi_matrix(r2)
    assert not ax2.texts


# ---------------------------------------------------------------------- plot_estimates_vs_truth
def test_plot_estimates_vs_truth_lines_and_errorbars():
    df = pd.DataFrame({
        "estimator": ["gaussian"] * 3 + ["ksg"] * 3,
        "true_mi": [0.5, 1.0, 2.0] * 2,
        "estimate": [0.5, 1.0, 2.0, 0.45, 0.85, 1.5],
        "low": [0.4, 0.9, 1.9, 0.5, 0.8, 1.4],  # ksg's first estimate lies below its interval
        "high": [0.6, 1.1, 2.1, 0.6, 0.9, 1.6],
    })
    ax = plotting.plot_estimates_vs_truth(df)
    assert len(_errorbar_containers(ax)) == 2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["gaussian", "ksg", "truth"]
    assert ax.get_xlabel() == "true MI [nats]" and ax.get_ylabel() == "estimated MI [nats]"


def test_plot_estimates_vs_truth_list_of_dicts_one_row_no_interval():
    ax = plotting.plot_estimates_vs_truth([{"estimator": "ksg", "true_mi": 1.0, "estimate": 0.9}])
    assert not _errorbar_containers(ax)
    assert len(ax.lines) == 2  # the estimate and the identity line


# ---------------------------------------------------------------------- plot_validation
def test_plot_validation_points_errorbars_labels():
    rep = make_report(["a", "b", "c"], [0.05, -0.02, 0.0], [0.3, -0.2, 0.01])
    ax = plotting.plot_validation(rep)
    eb = _errorbar_containers(ax)
    assert len(eb) == 1
    assert len(eb[0].lines[0].get_xdata()) == 3
    assert eb[0].has_xerr and eb[0].has_yerr
    assert sorted(t.get_text() for t in ax.texts if len(t.get_text()) == 1) == ["a", "b", "c"]
    assert ax.get_xlabel().startswith("CCH score") and "ucmkd" in ax.get_ylabel()


def test_plot_validation_baseline_criterion_has_no_xerr():
    rep = make_report(["a", "b"], [0.05, -0.02], [0.3, -0.2])
    ax = plotting.plot_validation(rep, criterion="teacher_accuracy_on_h")
    eb = _errorbar_containers(ax)
    assert not eb[0].has_xerr and ax.get_xlabel() == "teacher_accuracy_on_h"
    with pytest.raises(ValueError, match="criterion"):
        plotting.plot_validation(rep, criterion="nope")


def test_plot_validation_one_row_one_seed():
    rep = make_report(["a"], [0.01], [0.2], n_seeds=1, intervals=False)
    ax = plotting.plot_validation(rep)
    assert len(_errorbar_containers(ax)) == 1 and [t.get_text() for t in ax.texts] == ["a"]


def test_plot_validation_missing_scores_are_skipped():
    rep = make_report(["a", "b"], [0.01, 0.02], [np.nan, 0.1])
    ax = plotting.plot_validation(rep)
    assert [t.get_text() for t in ax.texts] == ["b"]


# ---------------------------------------------------------------------- plot_training_curves
def test_plot_training_curves_from_numbers():
    ax = plotting.plot_training_curves({"none": [0.5, 0.6, 0.7], "ucmkd": [0.5, 0.65, 0.72]})
    assert len(ax.lines) == 2
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "held-out accuracy"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["none", "ucmkd"]


def test_plot_training_curves_from_distill_results():
    r = make_distill_result()
    ax = plotting.plot_training_curves(r)
    assert len(ax.lines) == 1 and ax.lines[0].get_ydata()[-1] == pytest.approx(r.accuracy)
    ax = plotting.plot_training_curves([make_distill_result("none"), make_distill_result("ucmkd")])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["none", "ucmkd"]
    ax = plotting.plot_training_curves({"ucmkd": [make_distill_result(seed=s) for s in range(3)]}, key="loss")
    assert len(ax.lines) == 1 and len(ax.collections) == 1  # mean line and min-max band
    assert ax.get_ylabel() == "loss"
    ax = plotting.plot_training_curves({"raw curve": make_distill_result().curve})
    assert len(ax.lines[0].get_ydata()) == 5


# ---------------------------------------------------------------------- tiny real runs
def test_plots_of_real_results(small_bundle):
    r = cchkit.rank_teachers(small_bundle, "a", ["b"], n_bootstrap=10, representation="raw", random_state=0)
    ax = r.plot()
    assert len(_bars(ax)) == 1
    res = cchkit.distill.distill(small_bundle, "a", "b", method="align", epochs=2, min_steps=0, batch_size=16, feat_dim=4, hidden=8,
                         random_state=0, device="cpu")
    ax = plotting.plot_training_curves(res)
    assert len(ax.lines[0].get_xdata()) == 2
    assert not any(isinstance(c, LineCollection) for c in ax.collections)
    _ = Rectangle  # imported for readers: bars are Rectangle patches


def test_plot_validation_follows_the_criterion_that_decided_and_names_the_baseline():
    from cchkit.criteria import helps_threshold

    report = make_report(["a", "b", "c"], [0.03, -0.02, 0.0], [0.5, -0.3, 0.1])
    report.table["label_gain"] = [0.05, 0.12, 0.30]
    report.table["label_gain_low"] = report.table["label_gain"] - 0.02
    report.table["label_gain_high"] = report.table["label_gain"] + 0.02
    report.summary.update(verdict={"criterion": "label_gain"}, baseline={"kind": "probe"})
    ax = plotting.plot_validation(report)
    thr = helps_threshold("label_gain")
    assert ax.get_xlabel().startswith("label gain") and f"helps > {thr:.3g}" in ax.get_xlabel()
    assert ax.get_ylabel() == "KD gain (ucmkd) over the linear probe"
    xs = sorted(float(x) for x in _errorbar_containers(ax)[0].lines[0].get_xdata())
    dotted = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert len(dotted) == 1 and dotted[0].get_xdata()[0] == pytest.approx(thr)
    assert xs == pytest.approx([0.05, 0.12, 0.30])  # the label gains, not the CCH scores
