"""The bundled real data: shapes, classes and checksums of what is committed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import cchkit
from cchkit.datasets import data_dir

EXPECTED = {
    "digits-avt": {"n": 2000, "classes": 10, "dims": {"audio": 56, "image": 61, "text": 64}},
    "mfeat": {"n": 2000, "classes": 10, "dims": {"fou": 76, "fac": 213, "kar": 64, "pix": 240, "zer": 47, "mor": 6}},
    "wdbc": {"n": 569, "classes": 2, "dims": {"mean": 10, "se": 10, "worst": 10}, "counts": [357, 212]},
    "digits-rows": {"n": 1797, "classes": 10, "dims": {"top": 23, "middle": 14, "bottom": 24},
                    "counts": [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]},
}


def test_list_names_both_bundles():
    assert set(EXPECTED) <= set(cchkit.datasets.list())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_classes_and_balance(name):
    b = cchkit.datasets.load(name)
    exp = EXPECTED[name]
    assert {m: b[m].dim for m in b.names} == exp["dims"]
    assert b.n_classes == exp["classes"]
    for m in b.names:
        assert b[m].n == exp["n"]
        assert np.bincount(b[m].labels).tolist() == exp.get("counts", [exp["n"] // exp["classes"]] * exp["classes"])
        assert np.isfinite(b[m].data).all()
    assert b.paired(b.names).n == exp["n"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_checksums_match_bundle_json(name):
    root = data_dir() / name
    meta = json.loads((root / "bundle.json").read_text())
    entries = list(meta["modalities"].values()) + [meta["label"]]
    for entry in entries:
        digest = hashlib.sha256((root / entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], entry["file"]
    for key in ("source", "licence", "how_made", "script"):
        assert meta[key]
    repo = Path(__file__).resolve().parents[1]
    assert (repo / meta["script"]).is_file()  # the generating script, relative to the repository


def test_unknown_dataset():
    with pytest.raises(cchkit.BundleFormatError, match="no bundled dataset named"):
        cchkit.datasets.load("imagenet")
