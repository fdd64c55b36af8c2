"""scverse-style tools and plots (issue #27): results stored in .uns["cchkit"] of small AnnData
and MuData objects made here, plots returning Axes, the objects still writable."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import cchkit  # noqa: E402

anndata = pytest.importorskip("anndata")
mudata = pytest.importorskip("mudata")


def _views(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    means = rng.normal(0, 2, (3, 4))
    rna = means[y] + rng.normal(0, 1.5, (n, 4))
    atac = means[y] @ rng.normal(size=(4, 5)) + rng.normal(0, 0.5, (n, 5))
    obs = pd.DataFrame({"cell_type": [f"t{c}" for c in y]}, index=[f"c{i}" for i in range(n)])
    return rna, atac, obs


@pytest.fixture
def mdata():
    rna, atac, obs = _views()
    mods = {"rna": anndata.AnnData(rna.astype(np.float32), obs=obs.copy()),
            "atac": anndata.AnnData(atac.astype(np.float32), obs=obs.copy())}
    return mudata.MuData(mods)


def test_rank_teachers_stores_its_table_and_plots(mdata, tmp_path):
    out = cchkit.tl.rank_teachers(mdata, student="rna", label_key="cell_type", n_bootstrap=20, progress=False)
    assert out is None  # in place, as scanpy
    table, settings = cchkit.tl.stored(mdata, "ranking")
    assert list(table["teacher"]) == ["atac"] and np.isfinite(table["cch_score"]).all()
    assert settings["criterion"] and settings["n_bootstrap"] == 20
    ax = cchkit.pl.ranking(mdata)
    assert isinstance(ax, matplotlib.axes.Axes)
    mdata.write(tmp_path / "x.h5mu")  # the stored result keeps the object writable
    back = mudata.read_h5mu(tmp_path / "x.h5mu")
    assert list(cchkit.tl.stored(back, "ranking")[0]["teacher"]) == ["atac"]


def test_anndata_modalities_are_x_and_obsm(tmp_path):
    rna, atac, obs = _views()
    adata = anndata.AnnData(rna.astype(np.float32), obs=obs, obsm={"atac": atac.astype(np.float32)})
    copy = cchkit.tl.rank_teachers(adata, student="X", label_key="cell_type", n_bootstrap=20, progress=False,
                                   copy=True)
    assert "cchkit" not in adata.uns and "cchkit" in copy.uns
    assert list(cchkit.tl.stored(copy, "ranking")[0]["teacher"]) == ["atac"]
    with pytest.raises(cchkit.InputError, match="no cchkit validation in .uns"):
        cchkit.pl.validation(copy)
    with pytest.raises(cchkit.InputError, match="adata.obs has no label column 'nope'"):
        cchkit.tl.rank_teachers(adata, student="X", label_key="nope")
    with pytest.raises(cchkit.InputError, match="cchkit.tl works on an AnnData or a MuData"):
        cchkit.tl.rank_teachers(pd.DataFrame({"a": [1]}), student="X")


@pytest.mark.slow
def test_validate_stores_its_verdict_and_plots(mdata):
    cchkit.tl.validate(mdata, student="rna", label_key="cell_type", baseline="no-kd", seeds=3, epochs=3, progress=False, tune=False,
                       rank_params={"n_bootstrap": 10})
    table, summary = cchkit.tl.stored(mdata, "validation")
    assert list(summary)[0] == "verdict" and summary["verdict"]["outcome"] in ("held", "did not hold", "not confirmed")
    assert set(table["teacher"]) == {"atac"}
    assert isinstance(cchkit.pl.validation(mdata), matplotlib.axes.Axes)


def test_the_default_validation_stores_its_teacher_free_students_and_plots_them(mdata):
    cchkit.tl.validate(mdata, student="rna", label_key="cell_type", seeds=3, progress=False)
    table, summary = cchkit.tl.stored(mdata, "validation")
    assert list(summary)[0] == "verdict" and summary["verdict"]["outcome"] in ("use", "use any", "train alone")
    assert {"supervised", "best teacher-free"} <= {b["student"] for b in summary["baseline_students"]}
    ax = cchkit.pl.validation(mdata)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "best teacher-free" in labels and any(x.startswith("atac (") for x in labels)


def test_anndata_modalities_are_chosen_by_name_from_x_layers_and_obsm(tmp_path):
    rna, atac, obs = _views()
    adata = anndata.AnnData(rna.astype(np.float32), obs=obs, obsm={"atac": atac.astype(np.float32)},
                            layers={"scaled": (rna + np.random.default_rng(1).normal(size=rna.shape)).astype(np.float32)})
    cchkit.tl.rank_teachers(adata, "rna", label_key="cell_type", n_bootstrap=20,
                            modalities={"rna": "X", "scaled": "layers:scaled", "peaks": "obsm:atac"})
    table, _ = cchkit.tl.stored(adata, "ranking")
    assert sorted(table["teacher"]) == ["peaks", "scaled"]
    assert table["rank"].dtype.kind == "i"  # an integer in .uns, not a float
    with pytest.raises(cchkit.InputError, match="maps each modality name to its source"):
        cchkit.tl.rank_teachers(adata, "rna", label_key="cell_type", modalities=["X"])


def test_tl_advise_stores_its_own_answer_beside_the_measurement_and_pl_saves(mdata, tmp_path):
    cchkit.tl.advise(mdata, "rna", label_key="cell_type", seeds=3, budget=1e-3, rank_params={"n_bootstrap": 20})
    table, meta = cchkit.tl.stored(mdata, "advice")
    assert list(meta)[:2] == ["teacher", "text"]
    assert re.match(r"With every training row labelled \([\d,]+\), (no teacher is shown to help rna|use atac as the teacher of rna)",
                    meta["text"]), meta["text"]
    assert list(table["teacher"].unique()) == ["atac"]
    assert cchkit.tl.stored(mdata, "validation")[1]["method"] == meta["method"]
    assert cchkit.tl.stored(mdata, "ranking")[0]["teacher"].tolist() == ["atac"]
    path = tmp_path / "ranking.png"
    assert cchkit.pl.ranking(mdata, save=path) is not None and path.stat().st_size > 0
    assert cchkit.pl.advice(mdata, save=tmp_path / "advice.svg") is not None
    with pytest.raises(cchkit.InputError, match="name a file ending in one of"):
        cchkit.pl.ranking(mdata, save=tmp_path / "ranking.txt")
    assert not (tmp_path / "ranking.txt").exists()


def test_the_ranking_plot_draws_the_deciding_criterion_best_first(mdata):
    cchkit.tl.rank_teachers(mdata, "rna", label_key="cell_type", n_bootstrap=20, criterion="label_gain")
    ax = cchkit.pl.ranking(mdata)
    assert "label gain" in ax.get_xlabel() and "decided by label_gain" in ax.get_title()
