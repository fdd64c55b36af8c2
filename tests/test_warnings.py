"""What a user must see reaches notebooks and scripts as a Python warning, and the CLI once."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

import cchkit
from cchkit.cli import app


def _cut_bundle() -> cchkit.ModalityBundle:
    """t2 shares 30 of its 300 samples with s and t1: every estimate is cut to those 30."""
    rng = np.random.default_rng(0)
    n = 300
    y = np.repeat(np.arange(3), n // 3)
    arrays = {m: rng.standard_normal((n, 3)) + y[:, None] for m in ("s", "t1", "t2")}
    shared = np.arange(0, n, 10)
    ids = {"s": np.arange(n), "t1": np.arange(n), "t2": np.r_[shared, np.arange(1000, 1270)]}
    labels = {"s": y, "t1": y, "t2": np.r_[y[shared], np.repeat(np.arange(3), 90)]}
    return cchkit.ModalityBundle.from_arrays(arrays, labels=labels, ids=ids)


def test_a_ranking_that_cuts_the_pairs_warns_where_a_notebook_shows_it():
    with pytest.warns(cchkit.CchkitWarning, match="shares only 30"):
        cchkit.rank_teachers(_cut_bundle(), "s", representation="raw", n_bootstrap=20)


def test_a_corrected_label_term_is_a_warning_too():
    with pytest.warns(cchkit.CchkitWarning, match="raised to its variational lower bound"):
        cchkit.rank_teachers("digits-avt", "audio", ["text"], n_bootstrap=20)


def test_warnings_can_be_silenced_by_category():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", cchkit.CchkitWarning)
        cchkit.rank_teachers(_cut_bundle(), "s", representation="raw", n_bootstrap=20)


def test_the_cli_says_each_warning_once(tmp_path):
    path = tmp_path / "cut.npz"
    _cut_bundle().save(path)
    res = CliRunner().invoke(app, ["rank", "-d", str(path), "-s", "s", "-r", "raw", "--n-bootstrap", "20"])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if "shares only 30" in ln]
    assert len(lines) == 1 and lines[0].startswith("warning: "), res.output


def test_a_warning_points_at_the_users_line_not_at_cchkits():
    with pytest.warns(cchkit.CchkitWarning) as caught:
        cchkit.rank_teachers(_cut_bundle(), "s", representation="raw", n_bootstrap=20)
    assert {w.filename for w in caught} == {__file__}
