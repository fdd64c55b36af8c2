"""The default measurement with every label: gains over the best teacher-free student and a
placebo teacher; many labels choose on one validation split and test only the chosen settings'
fits on every labelled row; the no-KD baseline's options are refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import cchkit._parallel
from cchkit import ModalityBundle, validate
from cchkit.cli import app
from cchkit.exceptions import InputError
from cchkit.fewlabels import FewLabelReport, LabelRegime, plan_seed
from cchkit.fewlabels.regime import HOLDOUT_MIN_PER_CLASS, HOLDOUT_SHARE
from cchkit.fewlabels.run import best_setting, run_seed


def _bundle(n: int = 240, seed: int = 0) -> ModalityBundle:
    """3 classes, every row labelled; ``strong`` separates them, ``weak`` less, ``noise`` not at all."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    strong = rng.normal(size=(3, 6))[y] * 2.0 + rng.normal(size=(n, 6))
    weak = rng.normal(size=(3, 20))[y] * 0.3 + rng.normal(size=(n, 20))
    noise = rng.normal(size=(n, 5))
    return ModalityBundle.from_arrays({"weak": weak, "strong": strong, "noise": noise}, labels=y, name="toy-full")


@pytest.fixture(scope="module")
def report() -> FewLabelReport:
    return validate(_bundle(), "weak", ["strong", "noise"], seeds=3, progress=False)


def test_many_labels_choose_on_one_validation_split_few_labels_cross_validate():
    y = np.arange(300) % 3  # 70 training rows per class after the test rows
    many = plan_seed(y, np.arange(3), LabelRegime(), seed=1)
    assert many.n_folds == 1 and not many.cross_validated and many.search_keys == [0]
    held = many.folds[0]
    assert np.isin(held, many.labelled).all() and not np.isin(held, many.test).any()
    per_class = np.bincount(y[held], minlength=3) / np.bincount(y[many.labelled], minlength=3)
    assert np.allclose(per_class, HOLDOUT_SHARE, atol=0.02)  # stratified
    assert np.bincount(y[many.labelled]).min() >= HOLDOUT_MIN_PER_CLASS
    few = plan_seed(y, np.arange(3), LabelRegime(labels_per_class=20), seed=1)
    assert few.n_folds == 3 and few.cross_validated and few.search_keys == [0, 1, 2]


def test_only_each_kinds_chosen_setting_is_refitted_on_every_labelled_row_and_tested():
    b = _bundle()
    runs, _, plan = run_seed(b, "weak", ["strong"], LabelRegime(), seed=3, objectives=["logit-kd"],
                             modes={"strong": "same"})
    final = runs[runs["fold"] < 0]
    kinds = runs.groupby(["objective", "teacher", "placebo"], sort=False)
    assert len(final) == kinds.ngroups  # one tested fit per kind: its chosen setting
    for (objective, teacher, placebo), g in kinds:
        (family, setting, decay), _ = best_setting(g)
        row = final[(final["objective"] == objective) & (final["teacher"] == teacher) & (final["placebo"] == placebo)]
        assert row[["family", "setting", "weight_decay"]].iloc[0].tolist() == [family, setting, decay]
    assert set(runs.loc[runs["fold"] >= 0, "fold"]) == {0}
    # no unlabeled row: self-training would repeat the supervised search, so it does not run
    assert "self-training" not in set(runs["objective"]) and plan.unlabeled.size == 0


def test_with_few_labels_too_only_each_kinds_chosen_setting_gets_a_final_fit():
    runs, _, plan = run_seed(_bundle(), "weak", ["strong"], LabelRegime(labels_per_class=5), seed=3,
                             objectives=["logit-kd"], modes={"strong": "same"})
    assert plan.cross_validated and set(runs.loc[runs["fold"] >= 0, "fold"]) == {0, 1, 2}
    final = runs[runs["fold"] < 0]
    kinds = runs.groupby(["objective", "teacher", "placebo"], sort=False)
    assert len(final) == kinds.ngroups
    for (objective, teacher, placebo), g in kinds:
        row = final[(final["objective"] == objective) & (final["teacher"] == teacher) & (final["placebo"] == placebo)]
        assert row[["family", "setting", "weight_decay"]].iloc[0].tolist() == list(best_setting(g)[0])


def test_validate_with_every_label_measures_over_the_best_teacher_free_student(report):
    s = report.summary
    assert isinstance(report, FewLabelReport) and s["n_unlabeled"] == 0
    assert s["selection"] == f"a {HOLDOUT_SHARE:.0%} validation split"
    assert set(report.baselines["student"]) == {"supervised", "label-smoothing", "best teacher-free"}
    assert s["verdict"]["text"].startswith("With every training row labelled (")
    noise = report.table[report.table["teacher"] == "noise"]
    assert not noise["helps"].any() and "noise" not in s["verdict"]["teachers"]  # pure noise is never the answer


def test_the_same_seed_gives_the_same_json(report):
    again = validate(_bundle(), "weak", ["strong", "noise"], seeds=3, progress=False)
    assert again.to_json() == report.to_json()


def test_a_budget_adds_seeds_while_the_gains_overlap():
    b = _bundle(n=180)
    fixed = validate(b, "weak", ["strong", "noise"], seeds=3, methods=["class-align"], progress=False)
    assert fixed.summary["power"]["stopped"] == "fixed seeds" and len(fixed.summary["seeds"]) == 3
    tiny = validate(b, "weak", ["strong", "noise"], seeds=3, methods=["class-align"], budget=1e-6, progress=False)
    assert tiny.summary["power"]["stopped"] == "budget spent" and len(tiny.summary["seeds"]) == 3
    big = validate(b, "weak", ["strong", "noise"], seeds=3, methods=["class-align"], budget=600, max_seeds=5,
                   progress=False)
    n = len(big.summary["seeds"])
    assert (n == 5) == (big.summary["power"]["stopped"] == "seed cap reached") and 3 <= n <= 5
    assert big.summary["seeds"][:3] == fixed.summary["seeds"]  # the first round is the fixed run's


@pytest.mark.parametrize("kwargs, name", [(dict(epochs=30), "epochs"), (dict(tune=True), "tune")])
def test_a_no_kd_setting_passed_at_its_default_value_is_refused_too(kwargs, name):
    """epochs=30 and tune=True equalled the defaults, so the API let them through unread."""
    with pytest.raises(InputError, match=f"{name} applies only to baseline='no-kd'"):
        validate(_bundle(), "weak", ["strong"], progress=False, **kwargs)


@pytest.mark.parametrize("kwargs, name", [
    (dict(epochs=5), "epochs"), (dict(tune=False), "tune"), (dict(train_size=50), "train_size"),
    (dict(ranking=object()), "ranking"), (dict(device="cpu"), "device"),
])
def test_a_setting_of_the_no_kd_baseline_is_refused_by_name(kwargs, name):
    with pytest.raises(InputError, match=f"{name} applies only to baseline='no-kd'"):
        validate(_bundle(), "weak", ["strong"], progress=False, **kwargs)


#: a value other than its default for every option whose help says "With --baseline no-kd"
_NO_KD_VALUES = {"--train-size": ["100"], "--epochs": ["5"], "--estimator": ["ksg"], "--representation": ["raw"],
                 "--variant": ["matched"], "--n-bootstrap": ["50"], "--tune": []}


def test_every_option_whose_help_says_no_kd_only_is_refused_without_it():
    """The help and the refusal agree: an option documented as --baseline no-kd's is refused in the
    default measurement (the set is read from the help, so a new one must be handled here too)."""
    import typer.main

    cmd = typer.main.get_command(app).commands["validate"]
    marked = {p.opts[0] for p in cmd.params if (getattr(p, "help", None) or "").startswith("With --baseline no-kd")}
    assert marked == set(_NO_KD_VALUES)
    for opt, value in _NO_KD_VALUES.items():
        args = ["--no-tune"] if opt == "--tune" else [opt, *value]
        res = CliRunner().invoke(app, ["validate", "-s", "audio", "-c", "image", *args, "-q"])
        assert res.exit_code == 2 and "only with --baseline no-kd" in res.output, (opt, res.output)


@pytest.mark.parametrize("args, said", [(["--epochs", "30"], "--epochs applies"), (["--tune"], "--tune applies"),
                                        (["--estimator", "gaussian"], "--estimator applies")])
def test_a_no_kd_option_typed_at_its_default_value_is_refused_too(args, said):
    """`--epochs 30` equals the default, so it was let through unread: a value passed is used or refused."""
    res = CliRunner().invoke(app, ["validate", "-s", "audio", "-c", "image", *args, "-q"])
    assert res.exit_code == 2 and f"{said} only with --baseline no-kd" in res.output, res.output


def test_the_cli_refuses_a_no_kd_option_in_one_line():
    res = CliRunner().invoke(app, ["validate", "-s", "audio", "-c", "image", "--epochs", "5", "-q"])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "--epochs applies only with --baseline no-kd" in res.output
    res = CliRunner().invoke(app, ["validate", "-s", "audio", "-c", "image", "--baseline", "mine", "-q"])
    assert res.exit_code == 2 and "--baseline must be teacher-free or no-kd" in res.output


def test_the_seeds_run_in_parallel_workers_and_give_the_serial_report(monkeypatch):
    """n_jobs was refused here (the seeds ran one after the other): now a round's seeds go to
    worker processes, and a seed's numbers depend on the seed alone, so the report is the serial one."""
    import cchkit.fewlabels.validate as few

    sent = []
    real = few.run_chunked

    def spy(fn, tasks, shared, **kw):
        sent.append((list(tasks), kw["n_jobs"]))
        return real(fn, tasks, shared, **kw)

    monkeypatch.setattr(few, "run_chunked", spy)
    monkeypatch.setattr(cchkit._parallel, "available_cores", lambda: 2)  # two workers on a one-core machine too
    kw = dict(seeds=3, methods=["class-align"], progress=False, random_state=4)
    serial = validate(_bundle(n=150), "weak", ["strong"], n_jobs=1, **kw)
    assert sent == []
    parallel = validate(_bundle(n=150), "weak", ["strong"], n_jobs=2, **kw)
    assert sent == [(parallel.summary["seeds"], 2)]
    assert parallel.to_json() == serial.to_json()
    assert parallel.runs.equals(serial.runs)
