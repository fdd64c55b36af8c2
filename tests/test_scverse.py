"""AnnData / MuData input: modalities from obsm / layers / MuData modalities, labels from obs,
sample ids from obs_names, partial overlap handled as pairing; `cchkit import` of .h5ad/.h5mu."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

import cchkit
from cchkit.cli import app

anndata = pytest.importorskip("anndata")
mudata = pytest.importorskip("mudata")


def _adata(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(["B", "T", "NK"], n // 3)
    x = sp.csr_matrix(rng.poisson(1.0, (n, 20)).astype(np.float32))
    ad = anndata.AnnData(X=x, obs=pd.DataFrame({"cell_type": pd.Categorical(y)}, index=[f"cell{i}" for i in range(n)]))
    ad.obsm["X_pca"] = rng.standard_normal((n, 5)) + (y == "T")[:, None]
    ad.layers["counts"] = x.copy()
    return ad


def test_from_anndata_uses_x_obsm_layers_and_obs():
    ad = _adata()
    b = cchkit.ModalityBundle.from_anndata(ad, label="cell_type")
    assert b.names == ["X", "X_pca"] and b["X"].dim == 20 and b["X_pca"].dim == 5
    assert sorted(map(str, b.classes)) == ["B", "NK", "T"] and b.n_paired("X", "X_pca") == 60
    assert b["X"].ids[0] == "cell0"
    assert np.array_equal(b["X"].data, ad.X.toarray())
    sel = cchkit.ModalityBundle.from_anndata(ad, label="cell_type", modalities={"rna": "layers:counts", "pca": "obsm:X_pca"})
    assert sel.names == ["rna", "pca"]
    with pytest.raises(cchkit.BundleError, match="unknown AnnData source 'obsm:umap'"):
        cchkit.ModalityBundle.from_anndata(ad, label="cell_type", modalities={"u": "obsm:umap"})
    with pytest.raises(cchkit.BundleError, match="no column 'celltype'"):
        cchkit.ModalityBundle.from_anndata(ad, label="celltype")
    ad.obs.loc["cell3", "cell_type"] = np.nan
    with pytest.raises(cchkit.BundleError, match="1 cell"):
        cchkit.ModalityBundle.from_anndata(ad, label="cell_type")


def test_from_mudata_pairs_by_obs_names_with_partial_overlap():
    rng = np.random.default_rng(1)
    rna = _adata(60)
    prot = anndata.AnnData(X=rng.standard_normal((45, 8)),
                           obs=pd.DataFrame({"cell_type": rna.obs["cell_type"].iloc[15:].to_numpy()},
                                            index=rna.obs_names[15:]))  # 45 of the 60 cells
    md = mudata.MuData({"rna": rna, "prot": prot})
    b = cchkit.ModalityBundle.from_mudata(md, label="cell_type")
    assert b["rna"].n == 60 and b["prot"].n == 45 and b.n_paired("rna", "prot") == 45
    r = cchkit.rank_teachers(b, "prot", ["rna"], n_bootstrap=10, random_state=0)
    assert r.table["n_pairs"].iloc[0] == 45 and r.table["error"].isna().all()


def test_cli_imports_h5ad_and_h5mu(tmp_path):
    ad = _adata()
    ad.write_h5ad(tmp_path / "x.h5ad")
    runner = CliRunner()
    res = runner.invoke(app, ["import", str(tmp_path / "x.h5ad"), "--label", "cell_type", "--out", str(tmp_path / "x.npz")])
    assert res.exit_code == 0, res.output
    assert cchkit.ModalityBundle.load(tmp_path / "x.npz").names == ["X", "X_pca"]
    mudata.MuData({"rna": ad, "pca": anndata.AnnData(X=ad.obsm["X_pca"], obs=ad.obs.copy())}).write_h5mu(tmp_path / "m.h5mu")
    res = runner.invoke(app, ["import", str(tmp_path / "m.h5mu"), "--label", "cell_type", "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert sorted(cchkit.ModalityBundle.load(tmp_path / "m").names) == ["pca", "rna"]
    bad = runner.invoke(app, ["import", str(tmp_path / "x.h5ad"), "--label", "nope", "--out", str(tmp_path / "y.npz")])
    assert bad.exit_code == 2 and "no column 'nope'" in bad.output
