"""validate(): measured gains per teacher next to a (hand-made) ranking."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cchkit._stats import t_interval
from cchkit.bundle import ModalityBundle
from cchkit.exceptions import InputError
from cchkit.validation import ValidationReport, validate
from cchkit.validation.validate import REPORT_COLUMNS, criterion_stats

FAST = dict(epochs=2, min_steps=0, batch_size=32, feat_dim=8)


@pytest.fixture(scope="module")
def bundle(clean_noise_bundle):
    return clean_noise_bundle


def _ranking(**extra):
    table = pd.DataFrame(
        {
            "student": ["s", "s"],
            "teacher": ["clean", "noise"],
            "estimator": ["gaussian", "gaussian"],
            "cch_score": [0.4, -0.2],
            "cch_low": [0.1, -0.5],
            "cch_high": [0.7, 0.1],
            "decision": ["helps", "inconclusive"],
            "teacher_accuracy_on_h": [0.95, 0.35],
            "student_accuracy_on_h": [0.6, 0.6],
            "i_teacher_label": [1.0, 0.01],
            "i_student_label": [0.3, 0.3],
            "i_teacher_student": [0.7, 0.1],
            "mfh_score": [0.3, math.nan],
            **extra,
        }
    )
    return SimpleNamespace(table=table)


def test_report_table_summary_json_and_plot(bundle, tmp_path):
    rep = validate(bundle, "s", ["clean", "noise"], baseline="no-kd", methods=("align", "none"), seeds=[0, 1, 2], ranking=_ranking(),
                   progress=False, **FAST)
    assert isinstance(rep, ValidationReport)
    assert list(rep.table.columns) == REPORT_COLUMNS
    assert rep.summary["baseline"]["kind"] in ("mlp", "probe")
    assert list(zip(rep.table.teacher, rep.table.method)) == [("clean", "align"), ("noise", "align")]
    # gains are paired by seed over the stronger baseline: the mean of per-seed differences
    runs = rep.runs.pivot_table(index=["teacher", "seed"], columns="method", values="accuracy")
    base = rep.summary["baseline"]
    for _, row in rep.table.iterrows():
        if base["kind"] == "mlp":
            ref = runs.loc[row.teacher, "none"].to_numpy()
        else:
            from cchkit.validation.probe import tuned_probes

            m = bundle.modality("s")
            ref = np.array([p.accuracy for p in tuned_probes(m.data, m.labels, [0, 1, 2], [0, 1, 2]).values()])
        d = runs.loc[row.teacher, "align"].to_numpy() - ref
        m, lo, hi = t_interval(d)
        assert row.gain == pytest.approx(m) and row.gain_low == pytest.approx(lo) and row.gain_high == pytest.approx(hi)
        assert row.acc == pytest.approx(runs.loc[row.teacher, "align"].mean())
        assert row.significant == bool(lo > 0 or hi < 0)
    assert rep.table.loc[0, "cch_score"] == 0.4 and rep.table.loc[0, "decision"] == "helps"
    s = rep.summary
    assert s["method"] == "align" and s["n_teachers"] == 2 and s["seeds"] == [0, 1, 2]
    assert math.isnan(s["spearman"])  # 2 teachers: no rank correlation
    assert set(s["baselines"]) == {"teacher_accuracy", "label_gain", "teacher_cv_accuracy", "i_teacher_label", "i_teacher_student", "mfh_score",
                                   "non_target_divergence", "class_structure", "pid_unique", "probe_kd"}
    assert isinstance(s["top_is_best"], bool)
    doc = json.loads(rep.to_json(tmp_path / "r.json"))
    assert doc["summary"]["spearman"] is None and len(doc["rows"]) == 2
    assert json.loads((tmp_path / "r.json").read_text()) == doc
    ax = rep.plot()
    assert ax.get_xlabel().startswith("CCH score") and len(ax.texts) == 2


def test_paired_method_on_unpaired_teacher_is_recorded_not_raised(bundle):
    m = {k: bundle.modality(k) for k in ("s", "clean")}
    unpaired = ModalityBundle.from_arrays(
        {k: v.data for k, v in m.items()}, labels={k: v.labels for k, v in m.items()},
        ids={"s": np.arange(150), "clean": np.arange(1000, 1150)},
    )
    rep = validate(unpaired, "s", "clean", baseline="no-kd", methods=("logit-kd", "ucmkd"), seeds=1, ranking=_ranking(),
                   progress=False, **FAST)
    row = rep.table.set_index("method").loc["logit-kd"]
    assert "NotPairedError" in row.error and math.isnan(row.gain)
    assert rep.summary["method"] == "logit-kd"
    assert math.isfinite(rep.table.set_index("method").loc["ucmkd", "gain"])


def test_t_interval_matches_scipy():
    x = np.array([0.01, 0.03, -0.02, 0.05, 0.02])
    m, lo, hi = t_interval(x)
    ref = stats.t.interval(0.95, 4, loc=x.mean(), scale=stats.sem(x))
    assert m == pytest.approx(x.mean()) and (lo, hi) == pytest.approx(ref)
    assert math.isnan(t_interval(np.array([0.3]))[1])


def test_criterion_statistics_by_hand():
    t = pd.DataFrame(
        {
            "cch_score": [0.5, 0.2, -0.1, -0.4],
            "cch_low": [0.3, -0.1, -0.3, -0.6],  # decisions: helps, inconclusive, inconclusive, hurts
            "cch_high": [0.7, 0.5, 0.1, -0.2],
            "gain": [0.04, -0.02, -0.01, -0.05],
            "significant": [True, True, False, True],
            "teacher_accuracy_on_h": [0.9, 0.8, 0.7, 0.65],
            "student_accuracy_on_h": [0.6] * 4,
            "acc_none": [0.6] * 4,
        }
    )
    st = criterion_stats(t, "cch_score")
    assert st["spearman"] == pytest.approx(stats.spearmanr(t.cch_score, t.gain).statistic)
    # significant teachers: 0 (helps, + agree), 1 (inconclusive: no agreement), 3 (hurts, - agree)
    assert (st["sign_agree"], st["n_significant"], st["n_inconclusive"]) == (2, 3, 1)
    assert st["sign_share"] == pytest.approx(2 / 3)
    assert st["top_is_best"] is True
    acc = criterion_stats(t, "teacher_accuracy")  # predicts "helps" for all: teacher acc > student acc (0.6)
    assert (acc["sign_agree"], acc["n_significant"]) == (1, 3)


def test_bad_arguments(bundle):
    with pytest.raises(InputError, match="unknown method"):
        validate(bundle, "s", ["clean"], baseline="no-kd", methods=("nope",), ranking=_ranking(), progress=False)
    with pytest.raises(InputError, match="among the candidate"):
        validate(bundle, "s", ["s", "clean"], baseline="no-kd", ranking=_ranking(), progress=False)
    with pytest.raises(InputError, match="only 'none'"):
        validate(bundle, "s", ["clean"], baseline="no-kd", methods=("none",), ranking=_ranking(), progress=False)
    with pytest.raises(InputError, match=".table"):
        validate(bundle, "s", ["clean"], baseline="no-kd", ranking=object(), progress=False, **FAST)


# ---------------------------------------------------------------------- power statement, defaults
def _gains(rows):
    return pd.DataFrame([dict(teacher=t, method="class-align", gain=g, gain_low=lo, gain_high=hi) for t, g, lo, hi in rows])


def test_power_statement_says_when_the_teachers_cannot_be_ranked():
    from cchkit.validation.validate import power_statement

    overlap = power_statement(_gains([("a", 0.04, 0.01, 0.07), ("b", 0.03, 0.00, 0.06)]), "class-align", 5)
    assert overlap["min_detectable_gain"] == pytest.approx(0.03) and not overlap["separated"]
    assert "cannot rank them" in overlap["statement"] and "--seeds" in overlap["statement"]
    apart = power_statement(_gains([("a", 0.08, 0.06, 0.10), ("b", 0.01, -0.01, 0.03)]), "class-align", 5)
    assert apart["separated"] and "best teacher (a) is separated" in apart["statement"]
    one_seed = power_statement(_gains([("a", 0.08, math.nan, math.nan)]), "class-align", 1)
    assert "no interval" in one_seed["statement"]


def test_validate_defaults_to_class_align_with_paired_logit_kd_beside_it(bundle):
    rep = validate(bundle, "s", ["clean"], baseline="no-kd", seeds=3, ranking=_ranking(), progress=False, **FAST)
    assert list(rep.table["method"]) == ["class-align", "logit-kd"] and rep.summary["method"] == "class-align"
    assert "power" in rep.summary and rep.summary["power"]["n_seeds"] == 3
    unpaired = ModalityBundle.from_arrays(
        {"s": bundle.modality("s").data, "clean": bundle.modality("clean").data},
        labels=bundle.classes[bundle.modality("s").labels], paired=False,
    )
    rep = validate(unpaired, "s", ["clean"], baseline="no-kd", seeds=1, progress=False, **FAST)
    assert list(rep.table["method"]) == ["class-align"]  # no pairs: the paired column is left out


def test_cli_validate_train_size_and_power_line(bundle, tmp_path):
    from typer.testing import CliRunner

    from cchkit.cli import app

    path = bundle.save(tmp_path / "b.npz")
    res = CliRunner().invoke(app, ["validate", "--baseline", "no-kd", "-d", str(path), "-s", "s", "-c", "clean", "--seeds", "3", "--epochs", "2",
                                   "--train-size", "30", "-q"])
    assert res.exit_code == 0, res.output
    assert "power: with 3 seeds" in res.output and "gain class-align" in res.output and "gain logit-kd" in res.output
    tuned = next(line for line in res.output.splitlines() if line.startswith("tuned on the validation splits of seeds"))
    assert "student lr" in tuned and "hidden" in tuned and "dropout" in tuned and "clean class-align" in tuned
    bad = CliRunner().invoke(app, ["validate", "--baseline", "no-kd", "-d", str(path), "-s", "s", "-c", "clean", "--train-size", "0"])
    assert bad.exit_code == 2 and "train_size must be None or an integer >= 1" in bad.output


# ---------------------------------------------------------------------- the linear probe baseline (#25)
def test_probe_sees_the_distillers_split(bundle):
    from cchkit.distill import distill
    from cchkit.distill.splits import student_split
    from cchkit.validation.probe import PROBE_CS, linear_probe

    m = bundle.modality("s")
    fit, val, test = student_split(m.labels, 3)
    r = distill(bundle, "s", "clean", method="none", random_state=3, progress=False, **FAST)
    assert np.array_equal(np.sort(r.test_ids), np.sort(m.ids[test])) and r.n_train == fit.size and r.n_val == val.size
    p = linear_probe(m.data, m.labels, 3)
    assert p.C in PROBE_CS and 0.0 <= p.accuracy <= 1.0
    # by hand: the same C refitted on the fit rows, scored on the test rows
    from sklearn.linear_model import LogisticRegression

    mu, sd = m.data[fit].mean(0), m.data[fit].std(0)
    z = (m.data - mu) / sd
    model = LogisticRegression(C=p.C, max_iter=1000).fit(z[fit], m.labels[fit])
    assert p.accuracy == pytest.approx(float((model.predict(z[test]) == m.labels[test]).mean()))


def test_tuned_probes_choose_one_c_by_the_mean_validation_accuracy_of_the_first_seeds(bundle):
    from sklearn.linear_model import LogisticRegression

    from cchkit.distill.splits import student_split
    from cchkit.validation.probe import PROBE_CS, tuned_probes

    m = bundle.modality("s")

    def by_hand(seed, C):  # (validation accuracy, test accuracy) of C fitted on the seed's fit rows
        fit, val, test = student_split(m.labels, seed)
        z = (m.data - m.data[fit].mean(0)) / m.data[fit].std(0)
        model = LogisticRegression(C=C, max_iter=1000).fit(z[fit], m.labels[fit])
        return [float((model.predict(z[r]) == m.labels[r]).mean()) for r in (val, test)]

    mean_val = [np.mean([by_hand(s, C)[0] for s in (1, 2, 3)]) for C in PROBE_CS]
    best = PROBE_CS[int(np.argmax(mean_val))]  # the first (smallest C) on ties
    probes = tuned_probes(m.data, m.labels, [1, 2, 3, 8], [1, 2, 3])
    assert {p.C for p in probes.values()} == {best}
    assert probes[8].accuracy == pytest.approx(by_hand(8, best)[1])
    assert probes[8].val_accuracy == pytest.approx(by_hand(8, best)[0])


def test_gains_are_measured_over_the_stronger_baseline():
    from cchkit.validation.gains import Baseline

    mlp = pd.Series({1: 0.60, 2: 0.62})
    probe = pd.Series({1: 0.70, 2: 0.66})
    b = Baseline(mlp=mlp, probe=probe, probe_c={1: 1.0, 2: 1.0})
    assert b.kind == "probe" and b.accuracy(mlp).tolist() == [0.70, 0.66]
    weak = Baseline(mlp=mlp, probe=pd.Series({1: 0.5, 2: 0.55}), probe_c={})
    assert weak.kind == "mlp" and weak.accuracy(mlp).tolist() == [0.60, 0.62]
    assert b.summary()["mlp"][0] == pytest.approx(0.61)


def test_validate_reports_the_probe_and_measures_gains_over_it(bundle, caplog):
    with caplog.at_level("WARNING", logger="cchkit"):
        rep = validate(bundle, "s", ["clean"], baseline="no-kd", methods=("class-align",), seeds=3, ranking=_ranking(),
                       progress=False, **FAST)
    row = rep.table.iloc[0]
    base = rep.summary["baseline"]
    assert row["baseline"] == base["kind"] and row["acc_probe"] == pytest.approx(base["probe"][0])
    runs = rep.runs.set_index(["method", "seed"])["accuracy"]
    seeds = rep.summary["seeds"]
    ref = [runs["none", s] for s in seeds] if base["kind"] == "mlp" else None
    if base["kind"] == "probe":
        assert "ends below a tuned linear probe" in caplog.text
        from cchkit.validation.probe import tuned_probes

        m = bundle.modality("s")
        probes = tuned_probes(m.data, m.labels, seeds, seeds[:3])
        ref = [probes[s].accuracy for s in seeds]
    gains = [runs["class-align", s] - r for s, r in zip(seeds, ref)]
    assert row["gain"] == pytest.approx(np.mean(gains))


# ---------------------------------------------------------------------- tuned, stacked students (#25, #26)
def test_search_spaces_are_of_one_size_and_never_switch_kd_off():
    from cchkit.validation.stacked import KD_GRID, STUDENT_GRID, StudentSetting

    assert len(STUDENT_GRID) == len(KD_GRID) == 6
    assert all(w > 0 for w, _ in KD_GRID) and STUDENT_GRID[0] == StudentSetting()  # the distiller's defaults
    # the student's search covers every knob item 0 of #25 names: rate, decay, width, depth, dropout
    assert {s.lr for s in STUDENT_GRID} == {3e-3, 1e-2, 3e-2}
    assert {s.weight_decay for s in STUDENT_GRID} == {0.0, 1e-3}
    assert {s.hidden for s in STUDENT_GRID} == {(64,), (128,), (128, 64)}
    assert {s.dropout for s in STUDENT_GRID} == {0.0, 0.2}


def test_untuned_stacked_runs_equal_single_distill_runs(bundle):
    from cchkit.distill import distill

    rep = validate(bundle, "s", ["clean"], baseline="no-kd", methods=("class-align", "logit-kd"), seeds=[4, 9], ranking=_ranking(),
                   progress=False, tune=False, **FAST)
    for r in rep.runs.itertuples(index=False):
        one = distill(bundle, "s", r.teacher, method=r.method, random_state=r.seed, progress=False, **FAST)
        assert r.accuracy == pytest.approx(one.accuracy, abs=1e-6), (r.method, r.seed)
        assert r.teacher_net_accuracy == pytest.approx(one.teacher_net_accuracy, abs=1e-6)


def test_a_registered_method_with_a_stack_kind_trains_in_the_stacks(bundle):
    """A method registered the documented way, with per-row paired targets, joins the stacks
    (no list to edit): it trains there as logit-kd does, seed for seed."""
    from cchkit.distill import register_method, unregister_method
    from cchkit.distill.methods.paired import LogitKD
    from cchkit.validation.stacked import stackable_methods, stackable_names

    @register_method("logit-kd-twin", paired=True)
    class Twin(LogitKD):
        """logit-kd under another name."""

    try:
        assert "logit-kd-twin" in stackable_names() and stackable_methods(["logit-kd-twin"], {}) == ["logit-kd-twin"]
        rep = validate(bundle, "s", ["clean"], baseline="no-kd", methods=("logit-kd", "logit-kd-twin"),
                       seeds=[4], ranking=_ranking(), progress=False, tune=False, **FAST)
    finally:
        unregister_method("logit-kd-twin")
    acc = rep.runs.set_index("method")["accuracy"]
    assert acc["logit-kd-twin"] == acc["logit-kd"]


def test_pick_takes_the_best_mean_validation_accuracy_over_seeds():
    from cchkit.distill.batched import MemberResult
    from cchkit.validation.stacked import STUDENT_GRID, pick_best

    a, b = STUDENT_GRID[0], STUDENT_GRID[1]
    # b wins seed 1 by far, a wins seeds 2 and 3 narrowly: means a 0.70, b 0.6667
    val = {(1, a): 0.50, (1, b): 0.90, (2, a): 0.80, (2, b): 0.55, (3, a): 0.80, (3, b): 0.55}
    jobs = [SimpleNamespace(seed=seed, setting=st) for seed, st in val]
    res = [MemberResult(accuracy=0.0, val_accuracy=v, best_epoch=1) for v in val.values()]
    assert pick_best(jobs, res, key=lambda j: None, variant=lambda j: j.setting) == {None: a}
    tie = [MemberResult(accuracy=0.0, val_accuracy=0.5, best_epoch=1)] * len(jobs)
    assert pick_best(list(reversed(jobs)), tie, key=lambda j: None, variant=lambda j: j.setting) == {None: b}


def test_tuned_settings_are_chosen_on_the_first_seeds_and_kept(bundle):
    from cchkit.validation.stacked import KD_GRID, STUDENT_GRID, TUNE_SEEDS

    seeds = [4, 9, 2, 7]
    assert TUNE_SEEDS == 3
    rep = validate(bundle, "s", ["clean"], baseline="no-kd", methods=("class-align",), seeds=seeds, ranking=_ranking(),
                   progress=False, **FAST)
    runs, tuned = rep.runs, rep.summary["tuned"]
    assert tuned["chosen_on_seeds"] == seeds[:TUNE_SEEDS]
    none, kd = runs[runs["method"] == "none"], runs[runs["method"] == "class-align"]
    student = {(r.lr, r.weight_decay, r.hidden, r.dropout) for r in none.itertuples()}
    assert len(student) == 1 and student <= {(s.lr, s.weight_decay, s.label, s.dropout) for s in STUDENT_GRID}
    assert {(r.lr, r.weight_decay, r.hidden, r.dropout) for r in kd.itertuples()} == student
    assert len(set(zip(kd["kd_weight"], kd["temperature"]))) == 1
    assert set(zip(kd["kd_weight"], kd["temperature"])) <= set(KD_GRID)
    # the tuning seeds' runs do not depend on the seeds that follow them
    head = validate(bundle, "s", ["clean"], baseline="no-kd", methods=("class-align",), seeds=seeds[:TUNE_SEEDS], ranking=_ranking(),
                    progress=False, **FAST).runs
    cols = ["teacher", "method", "seed", "accuracy", "val_accuracy", "lr", "hidden", "kd_weight", "temperature"]
    pd.testing.assert_frame_equal(runs[runs.seed.isin(seeds[:TUNE_SEEDS])][cols].reset_index(drop=True),
                                  head[cols].reset_index(drop=True))


@pytest.mark.parametrize("setting", [{"lr": 0.1}, {"hidden": 32}, {"lambda1": 2.0}, {"temperature": 3.0}])
def test_a_tuned_setting_passed_with_tune_is_refused(bundle, setting):
    with pytest.raises(InputError, match=f"validate tunes {next(iter(setting))} itself.*tune=False"):
        validate(bundle, "s", ["clean"], baseline="no-kd", methods=("class-align",), seeds=2, ranking=_ranking(), progress=False,
                 **FAST, **setting)
    # and used when tuning is off
    rep = validate(bundle, "s", ["clean"], baseline="no-kd", methods=("class-align",), seeds=2, ranking=_ranking(), progress=False,
                   tune=False, **FAST, **setting)
    key, value = next(iter(setting.items()))
    column = {"lambda1": "kd_weight"}.get(key, key)
    runs = rep.runs[rep.runs["method"] == ("class-align" if key in ("lambda1", "temperature") else "none")]
    assert set(runs[column]) == {str(value) if key == "hidden" else value}


# ---------------------------------------------------------------------- the verdict (#25)
def _verdict_gains(rows):
    return pd.DataFrame([dict(teacher=t, method="m", gain=g, gain_low=lo, gain_high=hi, significant=sig)
                         for t, g, lo, hi, sig in rows])


@pytest.mark.parametrize("advice, rows, outcome", [
    ("a", [("a", 0.05, 0.02, 0.08, True), ("b", 0.0, -0.02, 0.02, False)], "held"),
    ("a", [("a", -0.05, -0.08, -0.02, True), ("b", 0.0, -0.02, 0.02, False)], "did not hold"),
    ("a", [("a", 0.01, 0.00, 0.02, True), ("b", 0.09, 0.05, 0.13, True)], "did not hold"),
    ("a", [("a", 0.01, -0.01, 0.03, False), ("b", 0.02, -0.01, 0.05, False)], "not confirmed"),
    ("a", [("a", 0.01, -0.01, 0.03, False), ("b", 0.02, 0.01, 0.04, True)], "not confirmed"),
    (None, [("a", 0.01, -0.01, 0.03, False), ("b", -0.05, -0.08, -0.02, True)], "held"),
    (None, [("a", 0.05, 0.02, 0.08, True)], "did not hold"),
])
def test_verdict_rules(advice, rows, outcome):
    from cchkit.validation.verdict import advice_verdict

    v = advice_verdict(advice, "cch_score", _verdict_gains(rows), "m", "probe")
    assert v["outcome"] == outcome, v
    if outcome == "not confirmed":  # another teacher's significant gain is named, not hidden
        assert ("b: significantly positive" in v["reason"]) == bool(rows[1][4] and rows[1][1] > 0)
    assert v["text"].startswith("advice (cch_score): ") and f"Advice {outcome}" in v["text"]


def test_ranking_advice_is_the_best_ranked_teacher_predicted_to_help():
    from cchkit.validation.verdict import ranking_advice

    t = pd.DataFrame({"teacher": ["a", "b", "c"], "rank": [2, 1, 3], "predicts_gain": [True, False, True]})
    assert ranking_advice(t.set_index("teacher")) == "a"
    assert ranking_advice(t.assign(predicts_gain=False).set_index("teacher")) is None


def test_validate_states_its_verdict(bundle):
    rep = validate(bundle, "s", ["clean", "noise"], baseline="no-kd", methods=("class-align",), seeds=3, ranking=_ranking(),
                   progress=False, **FAST)
    v = rep.summary["verdict"]
    assert v["advice"] == "clean"  # the hand ranking: clean "helps" (decision) and ranks first
    assert v["outcome"] in ("held", "did not hold", "not confirmed") and "clean" in v["text"]


# ---------------------------------------------------------------------- power by budget (#26)
def test_budget_adds_seeds_until_separated_or_spent(bundle):
    kw = dict(methods=("class-align",), ranking=_ranking(), progress=False, **FAST)
    fixed = validate(bundle, "s", ["clean", "noise"], baseline="no-kd", seeds=2, **kw)
    tiny = validate(bundle, "s", ["clean", "noise"], baseline="no-kd", seeds=2, budget=1e-6, **kw)
    assert tiny.summary["seeds"] == fixed.summary["seeds"]  # the budget draws the same first seeds
    assert tiny.summary["power"]["stopped"] in ("budget spent", "intervals separated")
    assert tiny.table["gain"].tolist() == pytest.approx(fixed.table["gain"].tolist())
    big = validate(bundle, "s", ["clean", "noise"], baseline="no-kd", seeds=2, budget=600, max_seeds=4, **kw)
    stop = big.summary["power"]["stopped"]
    assert stop in ("intervals separated", "seed cap reached")
    assert len(big.summary["seeds"]) == 4 if stop == "seed cap reached" else 2 <= len(big.summary["seeds"]) <= 4
    assert big.summary["seeds"][:2] == fixed.summary["seeds"] and "Seeds: 2 at first" in big.summary["power"]["statement"]
    with pytest.raises(InputError, match="max_seeds"):
        validate(bundle, "s", ["clean"], baseline="no-kd", seeds=8, budget=10, max_seeds=4, **kw)


def test_tuned_line_says_what_was_chosen_or_given():
    from cchkit.validation.stacked import tuned_line

    chosen = {"student": {"lr": 0.03, "weight_decay": 0.0, "hidden": [128, 64], "dropout": 0.2},
              "chosen_on_seeds": [3, 8, 1], "kd": [{"teacher": "image", "method": "class-align", "kd_weight": 1.0,
                                                    "temperature": 2.0}], "default_kd": {"kd_weight": 1.0, "temperature": 4.0}}
    assert tuned_line(chosen) == ("tuned on the validation splits of seeds 3, 8, 1: student lr 0.03, weight decay 0, "
                                  "hidden 128-64, dropout 0.2; KD weight x temperature: image class-align 1 x 2")
    given = {**chosen, "chosen_on_seeds": [], "kd": []}
    assert tuned_line(given).startswith("settings given (tune=False): student lr 0.03")
    assert tuned_line(given).endswith("KD weight x temperature: 1 x 4 for every teacher")


def test_halving_keeps_the_best_third_of_each_groups_variants():
    from cchkit.validation.stacked import KD_SEARCH, halving_survivors

    # group (t, m): six variants over two seeds, means 0.9, 0.5, 0.85, 0.7, 0.85, 0.1
    means = {(0.5, 2.0): 0.9, (0.5, 4.0): 0.5, (1.0, 2.0): 0.85, (1.0, 4.0): 0.7, (2.0, 2.0): 0.85, (2.0, 4.0): 0.1}
    jobs, val = [], []
    for seed, shift in ((1, 0.05), (2, -0.05)):
        for (w, t), m in means.items():
            jobs.append(SimpleNamespace(seed=seed, teacher="t", method="m", kd_weight=w, temperature=t))
            val.append(m + shift)
    going = halving_survivors(jobs, val, KD_SEARCH, eta=3)
    kept = {(j.kd_weight, j.temperature) for j, g in zip(jobs, going) if g}
    assert kept == {(0.5, 2.0), (1.0, 2.0)}  # top 2 of 6; (1, 2) ties (2, 2) and comes first
    assert sum(going) == 4  # every seed of a kept variant goes on
    assert sum(halving_survivors(jobs, val, KD_SEARCH, eta=2)) == 6  # ceil(6 / 2) variants


def test_a_halved_search_trains_its_survivors_as_the_full_search_does(bundle):
    from cchkit.validation import stacked as S

    prepared = S._prepare_all(bundle, "s", ["clean"], [4, 9], paired=False, epochs=FAST["epochs"], device="cpu",
                              dp={k: FAST[k] for k in ("batch_size", "feat_dim")})
    settings = S._settings(int(bundle.n_classes), 6, {k: FAST[k] for k in ("batch_size", "feat_dim", "min_steps")})
    jobs = [S._Job(seed, None, "none", st) for seed in prepared for st in S.STUDENT_GRID]
    full = S._train(jobs, prepared, settings)
    halved = S._train(jobs, prepared, settings, S.STUDENT_SEARCH)
    kept = [i for i, r in enumerate(halved) if r is not None]
    assert S.HALVING_RUNGS == (1 / 3, 2 / 3) and S.HALVING_ETA == 3  # 6 settings -> 2 -> 1
    assert len(kept) == 1 * 2 and len({jobs[i].setting for i in kept}) == 1  # one setting, both seeds
    assert all(halved[i] == full[i] for i in kept)


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_gains_are_separated_by_the_best_teacher_whatever_the_table_order(order):
    """c's gain (0.10 [0.08, 0.12]) sits above a's and b's intervals: separated in any row order;
    with c's interval reaching b's (low 0.03 < 0.04) it is not, in any order either."""
    from cchkit.validation.evidence import gains_separated

    t = pd.DataFrame({"teacher": ["a", "b", "c"], "gain": [0.01, 0.02, 0.10], "gain_low": [-0.01, 0.0, 0.08],
                      "gain_high": [0.03, 0.04, 0.12]}).iloc[order]
    assert gains_separated(t)
    assert not gains_separated(t.assign(gain_low=t["gain_low"].where(t["teacher"] != "c", 0.03)))


def test_a_paired_stackable_method_of_another_name_gets_the_pairs(bundle):
    """The stacks prepare paired splits for any registered paired method, not for a name: a copy
    of logit-kd under another name gives logit-kd's accuracies seed for seed."""
    from cchkit.distill import register_method, unregister_method
    from cchkit.distill.methods import get_method

    register_method("logit-kd-copy", paired=True)(type("LogitKDCopy", (type(get_method("logit-kd")),),
                                                       {"__doc__": "logit-kd under another name."}))
    try:
        kw = dict(baseline="no-kd", seeds=[0, 1, 2], ranking=_ranking(), progress=False, tune=False, **FAST)
        copy = validate(bundle, "s", ["clean"], methods=("logit-kd-copy",), **kw)
        real = validate(bundle, "s", ["clean"], methods=("logit-kd",), **kw)
    finally:
        unregister_method("logit-kd-copy")
    assert copy.runs["error"].fillna("").eq("").all()
    a = copy.runs[copy.runs["method"] == "logit-kd-copy"].sort_values("seed")["accuracy"].to_numpy()
    b = real.runs[real.runs["method"] == "logit-kd"].sort_values("seed")["accuracy"].to_numpy()
    np.testing.assert_allclose(a, b)


def test_the_probe_takes_the_most_regularised_c_among_ties():
    """Two classes far apart: every C of the grid is right on every validation row, so the
    tie goes to the smallest C (the most regularised), for one seed and for a tuned set."""
    from cchkit.validation.probe import PROBE_CS, linear_probe, tuned_probes

    rng = np.random.default_rng(0)
    y = np.arange(200) % 2
    x = rng.normal(size=(200, 3)) + 12.0 * y[:, None]
    r = linear_probe(x, y, 0)
    assert r.val_accuracy == 1.0 and r.C == min(PROBE_CS)
    assert {p.C for p in tuned_probes(x, y, [0, 1, 2], [0, 1]).values()} == {min(PROBE_CS)}


def test_an_untuned_kd_pair_falls_back_to_the_distill_configs_defaults():
    """The stacks' fallback KD weight and temperature are DistillConfig's (documented 1 and 4),
    read from it, not a second copy that can drift."""
    from cchkit.distill import DistillConfig
    from cchkit.validation.stacked import StudentSetting, Tuned

    tuned = Tuned(StudentSetting(0.01, 0.0, (64,), 0.0), kd={("image", "class-align"): (2.0, 2.0)})
    assert tuned.kd_of("image", "class-align") == (2.0, 2.0)
    assert tuned.kd_of("text", "class-align") == (DistillConfig().lambda1, DistillConfig().temperature) == (1.0, 4.0)
