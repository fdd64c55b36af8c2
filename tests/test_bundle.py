"""ModalityBundle: construction, pairing, round trips, and one specific error per bad input."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from cchkit import (
    BundleError,
    BundleFormatError,
    ModalityBundle,
    NotPairedError,
    UnknownModalityError,
)


def _bundle(n=40, seed=0, **kw):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    return ModalityBundle.from_arrays({"audio": rng.standard_normal((n, 3)), "image": rng.standard_normal((n, 5))}, labels=y, **kw)


def assert_same(b1: ModalityBundle, b2: ModalityBundle) -> None:
    assert b1.names == b2.names
    assert [str(c) for c in b1.classes] == [str(c) for c in b2.classes]
    for name in b1.names:
        m1, m2 = b1[name], b2[name]
        np.testing.assert_array_equal(m1.data, m2.data)
        np.testing.assert_array_equal(b1.classes[m1.labels].astype(str), b2.classes[m2.labels].astype(str))
        np.testing.assert_array_equal(m1.ids.astype(str), m2.ids.astype(str))
        assert m1.representation == m2.representation
        assert m1.description == m2.description


def test_from_arrays_basic_properties():
    b = _bundle()
    assert b.names == ["audio", "image"]
    assert b["audio"].data.shape == (40, 3) and b["image"].dim == 5
    assert b.n_classes == 2
    view = b.paired(["audio", "image"])
    assert view.n == 40 and set(view.data) == {"audio", "image"}


@pytest.mark.parametrize("suffix", [".npz", ""])
def test_round_trip(tmp_path, suffix):
    b = _bundle(descriptions={"audio": "mfcc"}, representations=["image"], name="demo")
    path = b.save(tmp_path / f"bundle{suffix}")
    b2 = ModalityBundle.load(path)
    assert_same(b, b2)
    assert b2.name == "demo"


@pytest.mark.parametrize("suffix", [".npz", ""])
def test_round_trip_unpaired_with_string_labels_and_ids(tmp_path, suffix):
    rng = np.random.default_rng(0)
    b = ModalityBundle.from_arrays(
        {"a": rng.standard_normal((30, 2)), "b": rng.standard_normal((20, 3))},
        labels={"a": np.array(["cat", "dog"] * 15), "b": np.array(["dog", "cat"] * 10)},
        ids={"a": [f"s{i}" for i in range(30)], "b": [f"s{i}" for i in range(100, 120)]},
    )
    assert b.n_paired("a", "b") == 0
    b2 = ModalityBundle.load(b.save(tmp_path / f"u{suffix}"))
    assert_same(b, b2)
    with pytest.raises(NotPairedError, match="share 0 sample id"):
        b2.paired(["a", "b"])


def test_directory_format_is_plain_npy(tmp_path):
    path = _bundle().save(tmp_path / "dir")
    meta = json.loads((path / "bundle.json").read_text())
    assert meta["format"] == "cchkit-bundle" and meta["format_version"] == 1
    assert meta["modalities"]["image"]["dim"] == 5
    for f in ("audio.npy", "image.npy", "label.npy"):
        np.load(path / f, allow_pickle=False)


def test_pairing_by_ids_reorders_rows():
    x = np.arange(20, dtype=float)[:, None] * np.ones((1, 2))
    y = np.repeat([0, 1], 10)
    perm = np.random.default_rng(0).permutation(20)
    b = ModalityBundle.from_arrays(
        {"a": x, "b": x[perm] * 2}, labels={"a": y, "b": y[perm]}, ids={"a": np.arange(20), "b": perm}
    )
    v = b.paired(["a", "b"])
    np.testing.assert_array_equal(v.data["b"], 2 * v.data["a"])


def test_from_dataframe_prefix_and_mapping():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.standard_normal((30, 4)), columns=["audio_0", "audio_1", "image_0", "image_1"])
    df["label"] = ["x", "y", "z"] * 10
    b = ModalityBundle.from_dataframe(df)
    assert b.names == ["audio", "image"] and b.n_classes == 3
    b2 = ModalityBundle.from_dataframe(df, modalities={"left": ["audio_0", "image_0"], "right": ["audio_1"]})
    assert b2["left"].dim == 2


def test_float_labels_that_are_integers_and_string_labels_work():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 2))
    assert ModalityBundle.from_arrays({"a": x}, labels=np.repeat([0.0, 1.0], 10)).n_classes == 2
    assert ModalityBundle.from_arrays({"a": x}, labels=np.repeat(["no", "yes"], 10)).n_classes == 2


# ----------------------------------------------------------------------- validation errors
X = np.random.default_rng(0).standard_normal((20, 3))
Y = np.repeat([0, 1], 10)


@pytest.mark.parametrize(
    "arrays, labels, exc, match",
    [
        ({"a": X}, Y[:15], BundleError, "has 20 rows but its labels have 15"),
        ({"a": np.where(np.eye(20, 3) > 0, np.nan, X)}, Y, BundleError, "NaN"),
        ({"a": np.where(np.eye(20, 3) > 0, np.inf, X)}, Y, BundleError, "infinite"),
        ({"a": np.array([["x"] * 3] * 20)}, Y, BundleError, "not numeric"),
        ({"a": np.array([[object()] * 3] * 20, dtype=object)}, Y, BundleError, "not numeric"),
        ({"a": X}, np.zeros(20), BundleError, "at least 2 classes"),
        ({"a": X[8:14]}, Y[8:14], BundleError, "at least 10 are needed"),
        ({"a": X}, None, BundleError, "no labels"),
        ({"a": X}, Y + 0.5, Exception, "non-integer floats"),
        ({"bad__name": X}, Y, BundleError, "invalid modality name"),
        ({"a": X[:, :, None].repeat(2, axis=2)}, Y, BundleError, "1-D or 2-D"),
    ],
)
def test_validation_errors(arrays, labels, exc, match):
    with pytest.raises(exc, match=match):
        ModalityBundle.from_arrays(arrays, labels=labels)


def test_unknown_modality_lists_valid_names():
    with pytest.raises(UnknownModalityError, match="this bundle has audio, image"):
        _bundle().modality("video")


def test_duplicated_ids_refused():
    with pytest.raises(BundleError, match="duplicated sample id"):
        ModalityBundle.from_arrays({"a": X}, labels=Y, ids=np.zeros(20, dtype=int))


def test_paired_labels_must_agree():
    with pytest.raises(BundleError, match="different labels"):
        ModalityBundle.from_arrays({"a": X, "b": X}, labels={"a": Y, "b": Y[::-1]}).paired(["a", "b"])


# ----------------------------------------------------------------------- files that are not bundles
def test_pickled_npz_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, a=np.array([{"x": 1}] * 20, dtype=object), label=Y)
    with pytest.raises(BundleFormatError, match="never unpickles"):
        ModalityBundle.load(path)


@pytest.mark.parametrize(
    "content, match",
    [(b"", "is empty"), (np.random.default_rng(0).bytes(2000), "not a readable .npz")],
)
def test_empty_and_random_files(tmp_path, content, match):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(BundleFormatError, match=match):
        ModalityBundle.load(path)


def test_truncated_npz(tmp_path):
    path = _bundle().save(tmp_path / "b.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleFormatError):
        ModalityBundle.load(path)


def test_npz_without_label(tmp_path):
    path = tmp_path / "nolabel.npz"
    np.savez(path, a=X)
    with pytest.raises(BundleError, match="no 'label' array"):
        ModalityBundle.load(path)


def test_single_npy_is_not_a_bundle(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, X)
    with pytest.raises(BundleFormatError, match="single array"):
        ModalityBundle.load(path)


def test_directory_without_bundle_json(tmp_path):
    with pytest.raises(BundleFormatError, match="without bundle.json"):
        ModalityBundle.load(tmp_path)


def test_missing_path():
    with pytest.raises(BundleFormatError, match="no such file"):
        ModalityBundle.load("/nonexistent/bundle.npz")


def test_bundle_json_that_lies_about_dims(tmp_path):
    path = _bundle().save(tmp_path / "dir")
    meta = json.loads((path / "bundle.json").read_text())
    meta["modalities"]["image"]["dim"] = 7
    (path / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleFormatError, match="says modality 'image' has dim=7"):
        ModalityBundle.load(path)


def test_bundle_json_invalid_json(tmp_path):
    path = _bundle().save(tmp_path / "dir")
    (path / "bundle.json").write_text("{not json")
    with pytest.raises(BundleFormatError, match="not valid JSON"):
        ModalityBundle.load(path)


def test_bundle_json_cannot_point_outside(tmp_path):
    path = _bundle().save(tmp_path / "dir")
    meta = json.loads((path / "bundle.json").read_text())
    meta["modalities"]["image"]["file"] = "../../etc/passwd"
    (path / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleFormatError, match="outside its directory"):
        ModalityBundle.load(path)


def test_zip_that_is_not_npz(tmp_path):
    path = tmp_path / "z.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(BundleFormatError):
        ModalityBundle.load(path)


def test_checksum_mismatch_is_detected(tmp_path):
    path = _bundle().save(tmp_path / "dir")
    arr = np.load(path / "image.npy")
    arr[0, 0] += 1.0
    np.save(path / "image.npy", arr)
    with pytest.raises(BundleFormatError, match="does not match the sha256"):
        ModalityBundle.load(path)


def test_sparse_matrices_are_accepted_and_densified_with_a_memory_check(monkeypatch):
    import scipy.sparse as sp

    import cchkit
    import cchkit._validation as validation

    rng = np.random.default_rng(0)
    dense = rng.standard_normal((60, 5)) * (rng.random((60, 5)) > 0.5)
    dense[:, 0] += np.repeat([0, 3], 30)
    y = np.repeat([0, 1], 30)
    b = ModalityBundle.from_arrays({"a": sp.csr_matrix(dense), "b": rng.standard_normal((60, 2))}, labels=y)
    assert np.array_equal(b["a"].data, dense)
    est = cchkit.mutual_info(sp.csc_matrix(dense), y, random_state=0)
    assert est.value == cchkit.mutual_info(dense, y, random_state=0).value
    monkeypatch.setattr(validation, "MAX_DENSE_BYTES", 1000)
    with pytest.raises(cchkit.CchkitError, match="sparse 60 x 5 matrix"):
        cchkit.mutual_info(sp.csr_matrix(dense), y)
