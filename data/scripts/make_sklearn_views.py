"""Build two small multi-view bundles from data that ship inside scikit-learn (no download).

* ``wdbc``: Breast Cancer Wisconsin (Diagnostic), 569 tumours, benign / malignant. Each of ten
  nucleus measurements is reported three ways; the views are those three feature groups:
  ``mean`` (the mean over the nuclei of one image), ``se`` (their standard error) and ``worst``
  (the mean of the three largest values). Views of *one instrument* (one image), a weaker kind
  of view than separate sensors.
* ``digits-rows``: scikit-learn's 8x8 handwritten digits (1,797 images, UCI "Optical Recognition
  of Handwritten Digits", test part). Views: ``top`` (rows 0-2), ``middle`` (rows 3-4) and
  ``bottom`` (rows 5-7) of the image, constant pixels dropped. Again views of one instrument.

Usage: python data/scripts/make_sklearn_views.py  (writes cchkit/datasets/data/wdbc and .../digits-rows)
"""
from __future__ import annotations

import os
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits

sys.path.insert(0, os.path.dirname(__file__))
from _bundle import constant_columns, write_bundle  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "cchkit", "datasets", "data")


def wdbc() -> None:
    d = load_breast_cancer()
    x = d.data.astype(np.float32)
    names = [str(f) for f in d.feature_names]
    groups = {"mean": [i for i, f in enumerate(names) if f.startswith("mean ")],
              "se": [i for i, f in enumerate(names) if f.endswith(" error")],
              "worst": [i for i, f in enumerate(names) if f.startswith("worst ")]}
    assert all(len(v) == 10 for v in groups.values())
    desc = {"mean": "mean over the nuclei of the image of 10 measurements (radius, texture, perimeter, area, "
                    "smoothness, compactness, concavity, concave points, symmetry, fractal dimension)",
            "se": "standard error of the same 10 measurements over the nuclei",
            "worst": "mean of the three largest values of the same 10 measurements"}
    # sklearn's target: 0 = malignant, 1 = benign
    write_bundle(
        os.path.join(ROOT, "wdbc"), name="wdbc",
        description="Breast Cancer Wisconsin (Diagnostic): 569 fine-needle aspirate images of breast masses, "
                    "malignant or benign; three views = three summaries (mean, standard error, worst) of the same "
                    "10 nucleus measurements: feature groups of one instrument, a weaker kind of view.",
        source="UCI Machine Learning Repository, Breast Cancer Wisconsin (Diagnostic), Wolberg, Street, Mangasarian "
               f"(1993); the copy shipped in scikit-learn {sklearn.__version__} (sklearn.datasets.load_breast_cancer).",
        licence="CC BY 4.0 (UCI Machine Learning Repository); cite Wolberg, W., Mangasarian, O., Street, N., Street, "
                "W. (1993) Breast Cancer Wisconsin (Diagnostic), UCI Machine Learning Repository.",
        how_made="load_breast_cancer(); columns grouped by their names ('mean *', '* error', 'worst *'); float32; "
                 "row order as shipped. Script: python data/scripts/make_sklearn_views.py",
        script="data/scripts/make_sklearn_views.py",
        modalities=[(k, x[:, v], desc[k]) for k, v in groups.items()],
        label=d.target.astype(np.int64), label_names=["malignant", "benign"],
        label_description="Diagnosis (sklearn's target: 0 malignant, 1 benign).",
    )


def digits_rows() -> None:
    d = load_digits()
    img = d.images.astype(np.float32)  # (n, 8, 8), values 0..16
    views = {"top": img[:, 0:3], "middle": img[:, 3:5], "bottom": img[:, 5:8]}
    mods = []
    for name, v in views.items():
        flat = v.reshape(v.shape[0], -1)
        keep = [j for j in range(flat.shape[1]) if j not in set(constant_columns(flat))]
        rows = {"top": "0-2", "middle": "3-4", "bottom": "5-7"}[name]
        mods.append((name, flat[:, keep], f"pixel intensities (0-16) of rows {rows} of the 8x8 image, "
                                          f"{len(keep)} non-constant pixels"))
    write_bundle(
        os.path.join(ROOT, "digits-rows"), name="digits-rows",
        description="1,797 handwritten digits (8x8 images); three views = the top (rows 0-2), middle (rows 3-4) and "
                    "bottom (rows 5-7) of the same image: parts of one instrument, a weaker kind of view.",
        source="UCI Machine Learning Repository, Optical Recognition of Handwritten Digits (Alpaydin, Kaynak 1998), "
               f"test part, as shipped in scikit-learn {sklearn.__version__} (sklearn.datasets.load_digits).",
        licence="CC BY 4.0 (UCI Machine Learning Repository); cite Alpaydin, E., Kaynak, C. (1998) Optical "
                "Recognition of Handwritten Digits, UCI Machine Learning Repository.",
        how_made="load_digits().images split by rows, each view flattened and its constant pixels dropped; float32; "
                 "row order as shipped. Script: python data/scripts/make_sklearn_views.py",
        script="data/scripts/make_sklearn_views.py",
        modalities=mods, label=d.target.astype(np.int64), label_names=[str(i) for i in range(10)],
        label_description="Digit class; label c is the digit c.",
    )


if __name__ == "__main__":
    wdbc()
    digits_rows()
    print("wrote cchkit/datasets/data/wdbc and cchkit/datasets/data/digits-rows")
