# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Few labels: where a teacher matters
#
# Cross-modal distillation is used above all where the student modality has **few labels and many
# unlabeled rows**. Here the student is `audio` of `digits-avt`; the candidate teachers are `image`
# and `text`. For each number of labels per class we keep that many labelled training rows of the
# student, turn every other training row into an unlabeled row, and measure (5 seeds, 95% intervals),
# then the same with every label (the right end of the curve: `cchkit validate`'s default there):
#
# * the **teacher-free** students: supervised, label smoothing, self-training (each tuned on the
#   labelled rows alone, by cross-validation, or by one validation split where every class has 40
#   or more; the *best teacher-free* one is chosen the same way);
# * each teacher's distilled student (`logit-kd` on the paired rows, labelled or not), tuned the same way;
# * each teacher's **placebo** (the same teacher trained on permuted labels).
#
# `teacher_labels="own"`: the teacher learns from every labelled row of its own modality (the
# label-rich case: labelled images, unlabelled audio), cross-fitted over the student's unlabeled
# samples so that its target on a sample never comes from that sample's own label (the one the
# student lacks); `"same"`: only from the student's few labelled samples. Every number quoted below is computed by the cells of this notebook.
#
# **Outputs stored in this file** come from a full-mode run (`make notebooks`). `CCHKIT_FAST=1`
# keeps 500 rows (then every label is chosen by cross-validation too: the one validation split that
# full mode uses at "all" is tested in tests/test_teacher_free.py), 3 seeds and two label counts (one
# with same-label teachers).

# %% tags=["parameters"]
import os
FAST = os.environ.get("CCHKIT_FAST", "0") == "1"   # parameter: CCHKIT_FAST=1 picks small, quick settings

# %%
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import cchkit

warnings.filterwarnings("ignore", message="IProgress not found")
bundle = cchkit.datasets.load("digits-avt")
if FAST:
    keep = np.random.default_rng(0).permutation(bundle["audio"].n)[:500]
    bundle = cchkit.ModalityBundle.from_arrays({m: bundle[m].data[keep] for m in bundle.names},
                                               labels=bundle.classes[bundle["audio"].labels[keep]], name="digits-avt (500 rows)")
LABELS = (5, 20) if FAST else (5, 10, 20, 50)
SEEDS = 3 if FAST else 5
print(f"mode: {'FAST' if FAST else 'full'}; {bundle}; labels per class {LABELS}; {SEEDS} seeds")

# %% [markdown]
# ## Accuracy against labels per class, with a label-rich teacher

# %%
t0 = time.perf_counter()
reports = {L: cchkit.validate(bundle, "audio", ["image", "text"], labels_per_class=L, teacher_labels="own",
                              methods=["logit-kd"], seeds=SEEDS, progress=False) for L in LABELS}
# every label: the same measurement, no unlabeled row left (x: the labelled rows per class it has)
every = cchkit.validate(bundle, "audio", ["image", "text"], methods=["logit-kd"], seeds=SEEDS, progress=False)
ALL = every.summary["n_labelled"] // bundle.n_classes
reports[ALL] = every
print(f"{len(reports)} validations in {time.perf_counter() - t0:.0f} s")
reports[LABELS[0]]


# %%
def curve(reports: dict) -> pd.DataFrame:
    rows = []
    for L, r in reports.items():
        for b in r.baselines.itertuples():
            rows.append({"L": L, "student": b.student, "acc": b.acc, "low": b.acc_low, "high": b.acc_high})
        for t in r.table.itertuples():
            rows.append({"L": L, "student": f"KD from {t.teacher}", "acc": t.acc, "low": t.acc_low, "high": t.acc_high})
            rows.append({"L": L, "student": f"placebo {t.teacher}", "acc": t.acc_placebo, "low": np.nan, "high": np.nan})
    return pd.DataFrame(rows)


c = curve(reports)
fig, ax = plt.subplots(figsize=(7.5, 4.2))
for name, g in c.groupby("student", sort=False):
    if name == "best teacher-free":
        continue
    style = "--" if name.startswith("placebo") else "-"
    ax.errorbar(g["L"], g["acc"], yerr=[g["acc"] - g["low"], g["high"] - g["acc"]], fmt="o" + style, capsize=3,
                label=name, alpha=0.9 if not name.startswith("placebo") else 0.5)
ax.set_xscale("log")
ax.set_xticks([*LABELS, ALL], [str(L) for L in LABELS] + [f"all ({ALL})"])
ax.set_xlabel("labelled rows per class of the student (audio); every other training row is unlabeled")
ax.set_ylabel("test accuracy (95% interval over seeds)")
ax.legend(fontsize=8, ncol=2)
ax.set_title("digits-avt: audio with few labels to all, teachers with their own labels")
plt.show()

# %%
for L, r in reports.items():
    print(f"L = {L:>3}: {r.summary['verdict']['text']}")

# %% [markdown]
# ## The same teachers with the student's few labels only
#
# A teacher that has only the student's labels brings no label the student lacks: what it can still
# bring is a view of the *unlabeled* rows in which the classes are easier to tell apart.

# %%
same = {L: cchkit.validate(bundle, "audio", ["image", "text"], labels_per_class=L, teacher_labels="same",
                           methods=["logit-kd"], seeds=SEEDS, progress=False) for L in LABELS[:1 if FAST else 2]}
table = pd.concat([r.table.assign(L=L)[["L", "teacher", "acc", "gain", "gain_low", "gain_high", "vs_placebo",
                                        "teacher_cv_accuracy", "helps"]] for L, r in same.items()])
print(table.round(3).to_string(index=False))
for L, r in same.items():
    print(f"L = {L}: {r.summary['verdict']['text']}")
    print(f"        {r.summary['prediction']['text']}")

# %% [markdown]
# ## What to read from it
#
# The cell below states, from the runs above, where a teacher pays and by how much.

# %%
first = reports[LABELS[0]].table.sort_values("gain", ascending=False).iloc[0]
last = reports[LABELS[-1]].table.sort_values("gain", ascending=False).iloc[0]
full = every.table.sort_values("gain", ascending=False).iloc[0]
print(f"With {LABELS[0]} labels per class, the best label-rich teacher ({first.teacher}) gains {first.gain:+.3f} "
      f"[{first.gain_low:+.3f}, {first.gain_high:+.3f}] over the best teacher-free student; with {LABELS[-1]} labels "
      f"per class the best gains {last.gain:+.3f} [{last.gain_low:+.3f}, {last.gain_high:+.3f}]; with every label "
      f"({ALL} per class) {full.gain:+.3f} [{full.gain_low:+.3f}, {full.gain_high:+.3f}].")
s5 = same[LABELS[0]].table.sort_values("gain", ascending=False).iloc[0]
print(f"With the same {LABELS[0]} labels, the best teacher ({s5.teacher}) gains {s5.gain:+.3f} "
      f"[{s5.gain_low:+.3f}, {s5.gain_high:+.3f}]; helps (beats its placebo too): {bool(s5.helps)}.")
