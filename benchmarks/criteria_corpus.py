"""The corpus of the criterion study and its measured KD gains (over tuned baselines).

Bundles (all shipped in ``cchkit/datasets/data``, built by ``data/scripts``): six real ones
(mfeat, digits-avt, wdbc, digits-rows, letters-sgp, words-cat), and for each a semi-synthetic
twin whose extra teachers are derived from its real modalities with a known direction of effect
(:mod:`cchkit.datasets.semisynthetic`): ``.perm`` (wrong class structure), ``.coarse`` (merged
classes), ``.noisy`` (30% label noise) and a ``.b`` half that sees what the student's ``.a``
half lacks. A *unit* of the leave-one-out loop is a real bundle with its twin, so that nothing
derived from a held-out bundle is seen while choosing.

Gains are measured by :func:`cchkit.validate` with its defaults (tuned no-KD MLP and tuned KD
students, the gain over the stronger of the MLP and the linear probe, 5 seeds, class-align and
paired logit-kd) in two regimes: ``full`` (the default 70/30 split) and ``starved`` (10 labelled
samples per class for the student; the teacher keeps its full split).

Run by ``benchmarks/criteria.py`` (or alone: ``python benchmarks/criteria_corpus.py --all`` writes
``results/criteria_gains.csv``, about 30 min on 2 cores); ``--quick`` measures digits-avt and its
twins in the full regime and prints them.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import RESULTS, log  # noqa: E402

GAINS_CSV = RESULTS / "criteria_gains.csv"
REAL = ("mfeat", "digits-avt", "wdbc", "digits-rows", "letters-sgp", "words-cat")
STARVED_PER_CLASS = 10
SEEDS = 5
#: mfeat has six views: its derived teachers come from one strong view, not from all five
MFEAT_SOURCES = {"pix": "fac"}
DERIVED = ("perm", "coarse", "noisy")


@dataclass
class Group:
    """One student with its teachers, in one bundle of the corpus."""

    unit: str  # the real bundle this group comes from (the leave-one-out unit)
    bundle_name: str  # the bundle as the study names it (``<real>`` or ``<real>+derived``)
    bundle: Any
    student: str
    teachers: list[str]
    kinds: dict[str, str] = field(default_factory=dict)  # teacher -> real / perm / coarse / noisy / split


def _sources(bundle: Any, student: str) -> list[str]:
    others = [m for m in bundle.names if m != student]
    if len(others) <= 2:
        return others
    return [MFEAT_SOURCES.get(student, "pix")]


def _derived(name: str) -> list[Group]:
    import cchkit
    from cchkit.datasets import semisynthetic as ss

    base = cchkit.load_bundle(name)
    groups = []
    for student in base.names:
        b = base.select(base.names)
        kinds = {}
        for src in _sources(base, student):
            for kind, make in (("perm", ss.permuted_teacher), ("coarse", ss.coarse_teacher),
                               ("noisy", ss.noisy_teacher)):
                b = make(b, src, random_state=0)
                kinds[f"{src}.{kind}"] = kind
        groups.append(Group(name, f"{name}+derived", b, student, list(kinds), kinds))
    first = base.names[0]
    split = ss.complementary_split(base.select([first]), first, random_state=0)
    groups.append(Group(name, f"{name}+split", split, f"{first}.a", [f"{first}.b"], {f"{first}.b": "split"}))
    return groups


def corpus(quick: bool = False) -> list[Group]:
    """Every group of the study (``quick``: digits-avt and its twin only)."""
    import cchkit

    groups = []
    for name in (["digits-avt"] if quick else REAL):
        b = cchkit.load_bundle(name)
        groups += [Group(name, name, b, s, [t for t in b.names if t != s], {t: "real" for t in b.names if t != s})
                   for s in b.names]
        groups += _derived(name)
    return groups


def measure(group: Group, regime: str, seeds: int = SEEDS, tune: bool = True) -> list[dict[str, Any]]:
    """The validate rows of one group in one regime, with the group's identity."""
    import cchkit

    kw: dict[str, Any] = {}
    if regime == "starved":
        kw["train_size"] = STARVED_PER_CLASS * group.bundle.n_classes
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = cchkit.validate(group.bundle, group.student, group.teachers, baseline="no-kd", seeds=seeds, tune=tune, progress=False,
                              random_state=0, **kw)
    rows = []
    for r in rep.table.to_dict("records"):
        rows.append(dict(unit=group.unit, bundle=group.bundle_name, regime=regime, tuned=tune,
                         kind=group.kinds[r["teacher"]], seconds=time.perf_counter() - t0, **r))
    return rows


def measure_all(groups: list[Group], regimes: tuple[str, ...] = ("full", "starved")) -> Any:
    """Gains of every group in every regime (tuned), and the untuned gains of the real groups in
    the full regime (the before/after of the baseline)."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    plan = [(g, r, True) for r in regimes for g in groups]
    plan += [(g, "full", False) for g in groups if g.bundle_name == g.unit]
    for i, (g, regime, tune) in enumerate(plan, 1):
        t0 = time.perf_counter()
        rows += measure(g, regime, tune=tune)
        log(f"[{i}/{len(plan)}] {g.bundle_name}:{g.student} {regime}{'' if tune else ' untuned'}: "
            f"{len(g.teachers)} teachers in {time.perf_counter() - t0:.1f}s")
    return pd.DataFrame(rows)


if __name__ == "__main__":
    if "--all" in sys.argv:  # what benchmarks/criteria.py runs when it has no gains yet
        t0 = time.perf_counter()
        measure_all(corpus()).to_csv(GAINS_CSV, index=False)
        log(f"wrote {GAINS_CSV} in {(time.perf_counter() - t0) / 60:.1f} min")
        sys.exit(0)
    df = measure_all(corpus(quick="--quick" in sys.argv), regimes=("full",))
    print(df[["bundle", "student", "teacher", "method", "tuned", "acc_none", "acc_probe", "gain", "gain_low",
              "gain_high", "significant"]].to_string())
