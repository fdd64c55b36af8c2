"""The hostile-input catalogue: every mistake a user can make meets a clear message and exit 2,
never a traceback, a hang, or a silently wrong number; nothing is written on failure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import cchkit
from cchkit.cli import app

runner = CliRunner()
RNG = np.random.default_rng(0)
N = 60
Y = np.repeat([0, 1, 2], N // 3)
A = RNG.standard_normal((N, 4)) + Y[:, None]
B = RNG.standard_normal((N, 3)) - Y[:, None]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def npz(tmp_path, name="b.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def assert_user_error(res, message):
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert message in res.output, res.output
    assert "Traceback" not in res.output
    assert len([line for line in res.output.splitlines() if line.startswith("error:")]) == 1


# each case: arrays for the .npz, extra CLI args, expected message
FILE_CASES = {
    "nan": (dict(a=np.where(np.eye(N, 4) > 0, np.nan, A), b=B, label=Y), "NaN"),
    "inf": (dict(a=np.where(np.eye(N, 4) > 0, np.inf, A), b=B, label=Y), "infinite"),
    "rows_do_not_match_labels": (dict(a=A[:50], b=B, label=Y), "has 50 rows but its labels have 60"),
    "no_label_array": (dict(a=A, b=B), "no 'label' array"),
    "one_class_only": (dict(a=A, b=B, label=np.zeros(N, int)), "at least 2 classes"),
    "single_sample": (dict(a=A[:1], b=B[:1], label=Y[:1]), "at least 10 are needed"),
    "string_features": (dict(a=np.array([["x"] * 4] * N), b=B, label=Y), "not numeric"),
    "non_integer_float_labels": (dict(a=A, b=B, label=Y + 0.25), "non-integer floats"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_bad_bundle_file_cli_and_api(tmp_path, case):
    arrays, message = FILE_CASES[case]
    path = npz(tmp_path, **arrays)
    assert_user_error(run("rank", "-d", path, "-s", "a", "-c", "b"), message)
    with pytest.raises(cchkit.CchkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cchkit.ModalityBundle.load(path)


def test_pickle_npz_refused_never_unpickled(tmp_path):
    class Boom:
        def __reduce__(self):  # would run on unpickling
            return (pytest.fail, ("unpickled!",))

    path = tmp_path / "evil.npz"
    np.savez(path, a=np.array([Boom()] * N, dtype=object), label=Y)
    assert_user_error(run("rank", "-d", path, "-s", "a"), "never unpickles")


@pytest.mark.parametrize("content, message", [(b"", "is empty"), (bytes(RNG.integers(0, 256, 4096, dtype=np.uint8)), "not a readable")])
def test_empty_and_random_bytes(tmp_path, content, message):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    assert_user_error(run("info", "-d", path), message)


def test_directory_without_bundle_json(tmp_path):
    assert_user_error(run("info", "-d", tmp_path), "without bundle.json")


def test_bundle_json_that_lies_about_dims(tmp_path):
    path = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y).save(tmp_path / "dir")
    meta = json.loads((path / "bundle.json").read_text())
    meta["modalities"]["a"]["dim"] = 99
    (path / "bundle.json").write_text(json.dumps(meta))
    assert_user_error(run("info", "-d", path), "says modality 'a' has dim=99")


@pytest.fixture
def good(tmp_path):
    return npz(tmp_path, "good.npz", a=A, b=B, c=RNG.standard_normal((N, 2)), label=Y)


@pytest.mark.parametrize(
    "args, message",
    [
        (("rank", "-s", "zzz"), "unknown modality 'zzz'"),
        (("rank", "-s", "a", "-c", "a,b"), "also listed as a candidate"),
        (("rank", "-s", "a", "-e", "oracle"), "unknown estimator 'oracle'"),
        (("rank", "-s", "a", "-r", "clip"), "representation must be one of 'encoder', 'pca', 'pca-var', 'raw', got 'clip'"),
        (("rank", "-s", "a", "--n-bootstrap", 0), "n_bootstrap must be an integer >= 1"),
        (("rank", "-s", "a", "--n-bootstrap", -5), "n_bootstrap must be an integer >= 1"),
        (("rank", "-s", "a", "--device", "tpu"), "device"),
        (("rank", "-s", "a", "-f", "yaml"), "--format must be one of"),
        (("validate", "-s", "a", "-c", "b", "--seeds", 0), "seeds must be an integer >= 1"),
        (("validate", "-s", "a", "-c", "b", "--seeds", -2), "seeds must be an integer >= 1"),
        (("estimate", "-x", "a", "-y", "zzz"), "unknown modality 'zzz'"),
    ],
)
def test_bad_arguments(good, args, message):
    assert_user_error(run(*args, "-d", good), message)


def test_cuda_requested_without_cuda(good):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert_user_error(run("rank", "-d", good, "-s", "a", "-r", "encoder", "--device", "cuda"), "CUDA is not available")


def test_constant_and_duplicated_columns_in_estimate(tmp_path):
    const = npz(tmp_path, "c.npz", a=np.c_[A, np.ones(N)], b=B, label=Y)
    assert_user_error(run("estimate", "-d", const, "-x", "a", "-y", "b"), "constant column")
    dup = npz(tmp_path, "d.npz", a=np.c_[A, A[:, :1]], b=B, label=Y)
    assert_user_error(run("estimate", "-d", dup, "-x", "a", "-y", "b"), "duplicated column")


def test_constant_columns_in_rank_are_dropped_not_fatal(tmp_path):
    path = npz(tmp_path, "c.npz", a=np.c_[A, np.ones(N)], b=B, label=Y)
    res = run("rank", "-d", path, "-s", "a", "-c", "b", "--n-bootstrap", 20)
    assert res.exit_code == 0, res.output


def test_fewer_samples_than_k_api():
    pytest.importorskip("cchkit.estimators.knn")
    with pytest.raises(cchkit.InputError, match="at least"):
        cchkit.get_estimator("ksg", k=10).estimate(A[:8], B[:8])


def test_mismatched_sample_counts_api():
    with pytest.raises(cchkit.InputError, match="sample counts do not match"):
        cchkit.get_estimator("gaussian").estimate(A, B[:30])


def test_unpaired_data_for_paired_method(tmp_path):
    b = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y, paired=False)
    path = b.save(tmp_path / "unpaired.npz")
    # paired logit KD needs pairs: every KD run fails, so the batch fails (exit 2), never a table of NaN
    res = run("validate", "--baseline", "no-kd", "-d", path, "-s", "a", "-c", "b", "-m", "logit-kd", "--seeds", 1, "--epochs", 1, "-q")
    assert_user_error(res, "every KD run failed")
    # the ranking side needs pairs too: the whole ranking fails with the reason, exit 2
    assert_user_error(run("rank", "-d", path, "-s", "a", "-c", "b"), "every one of the 1 ranking rows failed")
    with pytest.raises(cchkit.NotPairedError):
        cchkit.distill.distill(b, "a", "b", method="logit-kd", epochs=1)


def test_huge_dimension_tiny_n_is_refused_with_the_reason(tmp_path):
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 10)
    path = npz(tmp_path, "wide.npz", a=rng.standard_normal((20, 500)) + y[:, None], b=rng.standard_normal((20, 300)), label=y)
    res = run("rank", "-d", path, "-s", "a", "-c", "b", "--n-bootstrap", 20, "-r", "raw", "-f", "json")
    assert_user_error(res, "20 paired samples for 800 representation dimensions")


@pytest.mark.parametrize("labels", [np.repeat(["low", "mid", "high"], N // 3), Y.astype(float)])
def test_string_and_whole_float_labels_work(tmp_path, labels):
    path = npz(tmp_path, "s.npz", a=A, b=B, label=labels)
    res = run("rank", "-d", path, "-s", "a", "-c", "b", "--n-bootstrap", 20)
    assert res.exit_code == 0, res.output


def test_unwritable_out_leaves_nothing(good, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker / "ranking.json"  # a path under a regular file
    assert_user_error(run("rank", "-d", good, "-s", "a", "-c", "b", "--n-bootstrap", 20, "-o", out), "does not exist")


def test_failed_run_does_not_touch_existing_out(good, tmp_path):
    out = tmp_path / "keep.json"
    out.write_text("previous result")
    assert_user_error(run("rank", "-d", good, "-s", "zzz", "-o", out), "unknown modality")
    assert out.read_text() == "previous result"


def test_ctrl_c_exits_cleanly_without_partial_output(good, tmp_path, monkeypatch):
    import cchkit.ranking

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cchkit.ranking, "rank_teachers", interrupted)
    out = tmp_path / "r.json"
    res = run("rank", "-d", good, "-s", "a", "-o", out)
    assert res.exit_code == 130 and "interrupted" in res.output
    assert not out.exists() and not list(tmp_path.glob(".r.json*"))


def test_same_seed_byte_identical_json(good):
    args = ("rank", "-d", good, "-s", "a", "--n-bootstrap", 20, "-f", "json", "--seed", 11)
    first, second = run(*args), run(*args)
    assert first.exit_code == 0
    assert first.output == second.output


@pytest.mark.slow
def test_validate_same_seed_byte_identical_json(good):
    args = ("validate", "--baseline", "no-kd", "-d", good, "-s", "a", "-c", "b", "--seeds", 2, "--epochs", 2, "--n-bootstrap", 20, "-f", "json", "-q")
    first, second = run(*args), run(*args)
    assert first.exit_code == 0, first.output
    assert first.output == second.output


# ====================================================================== issue 14: silent wrong answers
import os  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import zipfile  # noqa: E402

CLI = [sys.executable, "-c", "from cchkit.cli.app import main; main()"]


def run_process(*args, timeout=60, **kwargs):
    """The CLI in a real process, so that a hang fails the test (timeout) instead of the suite."""
    return subprocess.run(
        CLI + [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "CCHKIT_DEBUG": ""}, **kwargs,
    )


def assert_process_user_error(res, message):
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert len([line for line in res.stderr.splitlines() if line.startswith("error:")]) == 1


# ---------------------------------------------------------------------- 1. parallel ranking
def test_parallel_ranking_equals_serial_api_and_cli(good):
    serial = cchkit.rank_teachers(good, "a", ["b", "c"], n_bootstrap=20, random_state=3)
    parallel = cchkit.rank_teachers(good, "a", ["b", "c"], n_bootstrap=20, random_state=3, n_jobs=2)
    assert parallel.table["error"].isna().all(), parallel.table["error"].tolist()
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(serial.table, parallel.table)
    args = ("rank", "-d", good, "-s", "a", "-c", "b,c", "--n-bootstrap", 20, "-f", "json", "--seed", 3)
    one, two = run(*args), run(*args, "--n-jobs", 2)
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    assert one.output == two.output


def test_estimator_registry_is_loaded_in_a_fresh_process():
    code = "from cchkit.estimators import estimator_class; print(estimator_class('gaussian').__name__)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == "GaussianMI", res.stderr


def test_every_row_failed_is_a_failure_not_a_result(good, monkeypatch):
    import cchkit.ranking.grid as grid

    def broken(task, *args):
        return task, cchkit.InputError("synthetic failure of every task")

    monkeypatch.setattr(grid, "run_task", broken)
    res = run("rank", "-d", good, "-s", "a", "-c", "b,c", "--n-bootstrap", 20)
    assert_user_error(res, "every one of the 2 ranking rows failed")
    assert "recommended" not in res.output
    with pytest.raises(cchkit.RankingFailedError, match="synthetic failure") as info:
        cchkit.rank_teachers(good, "a", ["b", "c"], n_bootstrap=20)
    assert len(info.value.ranking.table) == 2


def test_a_bug_in_every_row_is_an_internal_error_not_a_result(good, monkeypatch):
    import cchkit.ranking.grid as grid

    monkeypatch.setattr(grid, "run_task", lambda task, *a: (task, KeyError("gaussian")))
    res = run("rank", "-d", good, "-s", "a", "-c", "b", "--n-bootstrap", 20)
    assert res.exit_code == 1 and "internal error: KeyError" in res.output and "recommended" not in res.output


# ---------------------------------------------------------------------- 2. extreme magnitudes
@pytest.mark.parametrize("scale", [1e-300, 1e300, 1e307])
def test_extreme_magnitudes_give_the_unscaled_answer(tmp_path, scale):
    ref = npz(tmp_path, "ref.npz", a=A, b=B, label=Y)
    big = npz(tmp_path, "big.npz", a=A * scale, b=B, label=Y)
    for est in ("gaussian", "ksg"):
        want, got = (run("estimate", "-d", p, "-x", "a", "-y", "label", "-e", est, "-f", "json", "-q") for p in (ref, big))
        assert got.exit_code == 0, got.output
        w, g = json.loads(want.stdout)["rows"][0], json.loads(got.stdout)["rows"][0]
        assert g["value"] == pytest.approx(w["value"], abs=1e-9) and g["value"] > 0.3
    pair = run("estimate", "-d", big, "-x", "a", "-y", "b", "-f", "json", "-q")
    assert pair.exit_code == 0, pair.output
    want = json.loads(run("estimate", "-d", ref, "-x", "a", "-y", "b", "-f", "json", "-q").stdout)["rows"][0]["value"]
    assert json.loads(pair.stdout)["rows"][0]["value"] == pytest.approx(want, abs=1e-9)
    r_ref, r_big = (run("rank", "-d", p, "-s", "b", "-c", "a", "--n-bootstrap", 20, "-f", "json") for p in (ref, big))
    assert r_big.exit_code == 0, r_big.output
    rows_ref, rows_big = json.loads(r_ref.stdout)["rows"], json.loads(r_big.stdout)["rows"]
    assert rows_big[0]["cch_score"] == pytest.approx(rows_ref[0]["cch_score"], abs=1e-6)


def test_unstandardised_estimate_refuses_overflowing_magnitudes():
    with pytest.raises(cchkit.InputError, match="overflow or underflow"):
        cchkit.get_estimator("gaussian", standardize=False).estimate(A * 1e300, B)
    value = cchkit.get_estimator("gaussian", n_bootstrap=10).estimate(A * 1e-300, B).value
    assert value == pytest.approx(cchkit.get_estimator("gaussian", n_bootstrap=10).estimate(A, B).value, abs=1e-12)


# ---------------------------------------------------------------------- 3. misspelt keys
@pytest.mark.parametrize("key", ["b__id", "b__labels", "zzz__ids", "c__x__y"])
def test_unknown_npz_keys_are_refused_with_the_accepted_list(tmp_path, key):
    path = npz(tmp_path, a=A, b=B, label=Y, **{key: np.arange(N)[::-1]})
    res = run("rank", "-d", path, "-s", "a", "-c", "b")
    assert_user_error(res, f"'{key}'")
    assert "Accepted keys" in res.output and "b__ids" in res.output
    with pytest.raises(cchkit.BundleFormatError, match="not bundle keys"):
        cchkit.ModalityBundle.load(path)


def test_unknown_bundle_json_entry_key_is_refused(tmp_path):
    path = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y).save(tmp_path / "dir")
    meta = json.loads((path / "bundle.json").read_text())
    meta["modalities"]["a"]["idz"] = "a__ids.npy"
    (path / "bundle.json").write_text(json.dumps(meta))
    assert_user_error(run("info", "-d", path), "unknown key(s) 'idz'")


# ---------------------------------------------------------------------- 4. --out never destroys data
def test_out_that_is_the_input_is_refused_and_the_input_kept(good):
    before = good.read_bytes()
    assert_user_error(run("rank", "-d", good, "-s", "a", "-c", "b", "-o", good), "is the input")
    assert good.read_bytes() == before


def test_out_inside_an_input_directory_is_refused(tmp_path):
    path = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y).save(tmp_path / "dir")
    listing = sorted(p.name for p in path.iterdir())
    assert_user_error(run("info", "-d", path, "-o", path / "bundle.json"), "is the input")
    assert_user_error(run("info", "-d", path, "-o", path / "new.json"), "is the input")
    assert sorted(p.name for p in path.iterdir()) == listing


def test_out_keeps_an_existing_files_mode_and_a_new_one_follows_the_umask(good, tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old")
    out.chmod(0o644)
    assert run("info", "-d", good, "-o", out).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644 and "modalities" in out.read_text()
    new = tmp_path / "new.json"
    umask = os.umask(0o022)
    try:
        assert run("info", "-d", good, "-o", new).exit_code == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o644


def test_out_is_written_atomically_and_leaves_no_temp_file(good, tmp_path):
    out = tmp_path / "r.json"
    out.write_text("previous result")
    alias = tmp_path / "alias.json"
    os.link(out, alias)  # a second name for the old file: a rename leaves it, an in-place write would not
    assert run("info", "-d", good, "-o", out).exit_code == 0
    assert alias.read_text() == "previous result" and "modalities" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.json", "good.npz", "r.json"]


def test_out_failing_mid_write_keeps_the_old_file(good, tmp_path, monkeypatch):
    import errno

    import cchkit.cli._output as output

    out = tmp_path / "r.json"
    out.write_text("previous result")

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output.os, "fsync", full_disk)
    assert_user_error(run("info", "-d", good, "-o", out), "No space left on device")
    assert out.read_text() == "previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npz", "r.json"]


def test_out_through_a_symlink_keeps_the_link(good, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert run("info", "-d", good, "-o", link).exit_code == 0
    assert link.is_symlink() and "modalities" in target.read_text()


def test_out_to_a_fifo_is_written_through(good, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()), daemon=True)
    reader.start()
    res = run_process("info", "-d", good, "-o", fifo, "-f", "json", timeout=60)
    reader.join(30)
    assert res.returncode == 0, res.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and json.loads(got[0])["name"] == "good"


# ---------------------------------------------------------------------- 5. labels and masked arrays
def test_huge_whole_float_labels_keep_their_classes(tmp_path):
    path = npz(tmp_path, a=A, b=B, label=np.array([0.0, 1e19, 2e19])[Y])
    assert cchkit.ModalityBundle.load(path).n_classes == 3
    res = run("info", "-d", path, "-f", "json")
    assert res.exit_code == 0 and len(json.loads(res.stdout)["classes"]) == 3


def test_masked_arrays_are_refused_not_unmasked():
    x = np.ma.masked_array(A, mask=np.zeros_like(A, dtype=bool))
    x.mask[:5, 0] = True
    with pytest.raises(cchkit.InputError, match="masked array with 5 masked"):
        cchkit.estimate_mi(x, Y)
    with pytest.raises(cchkit.CchkitError, match="masked"):
        cchkit.ModalityBundle.from_arrays({"a": x, "b": B}, labels=Y)
    with pytest.raises(cchkit.InputError, match="masked"):
        cchkit.estimate_mi(A, np.ma.masked_array(Y, mask=Y == 2))
    no_mask = np.ma.masked_array(A)
    assert cchkit.estimate_mi(no_mask, Y, random_state=0).value == cchkit.estimate_mi(A, Y, random_state=0).value


# ---------------------------------------------------------------------- 6. hangs and bombs
def test_fifo_in_a_bundle_directory_is_refused_not_read(tmp_path):
    path = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y).save(tmp_path / "dir")
    (path / "a.npy").unlink()
    os.mkfifo(path / "a.npy")
    assert_process_user_error(run_process("info", "-d", path, timeout=60), "is a FIFO")
    (path / "a.npy").rename(path / "fifo")
    (path / "a.npy").symlink_to(path / "fifo")  # a link to a FIFO inside the bundle
    assert_process_user_error(run_process("info", "-d", path, timeout=60), "is a FIFO")
    (path / "a.npy").unlink()
    os.mkfifo(tmp_path / "outside")
    (path / "a.npy").symlink_to(tmp_path / "outside")  # a link out of the bundle
    assert_process_user_error(run_process("info", "-d", path, timeout=60), "points outside its directory")
    assert_process_user_error(run_process("info", "-d", tmp_path / "outside", timeout=60), "is a FIFO")


def test_deflate_bomb_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, a=np.zeros((9_000_000, 1)), label=np.zeros(9_000_000, int))
    assert path.stat().st_size < 1_000_000
    res = run_process("info", "-d", path, timeout=60)
    assert_process_user_error(res, "likely decompression bomb")


def test_declared_size_over_the_limit_is_refused(good, monkeypatch):
    monkeypatch.setenv("CCHKIT_MAX_BUNDLE_BYTES", "1000")
    assert_user_error(run("info", "-d", good), "CCHKIT_MAX_BUNDLE_BYTES")


def _npz_with_member(path, name, payload, **zip_kwargs):
    with zipfile.ZipFile(path, "w", **zip_kwargs) as zf:
        zf.writestr(name, payload)
    return path


def _npy_bytes(arr):
    import io

    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_header_declaring_a_huge_shape_is_corrupt_not_out_of_memory(tmp_path):
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10**11, 4)})
    path = _npz_with_member(tmp_path / "h.npz", "a.npy", buf.getvalue() + b"\0" * 64)
    assert_user_error(run("info", "-d", path), "declares shape (100000000000, 4)")


def test_encrypted_and_unknown_method_members_are_refused(tmp_path):
    def patched(name, field_offsets, value):
        raw = bytearray(_npz_with_member(tmp_path / name, "a.npy", _npy_bytes(A)).read_bytes())
        for sig, offset in zip((b"PK\x03\x04", b"PK\x01\x02"), field_offsets):
            at = raw.index(sig) + offset
            raw[at:at + 2] = value.to_bytes(2, "little")
        (tmp_path / name).write_bytes(bytes(raw))
        return tmp_path / name

    # general-purpose flag bit 0 (encrypted) in the local header (offset 6) and central directory (8)
    assert_user_error(run("info", "-d", patched("enc.npz", (6, 8), 0x1)), "is encrypted")
    # compression method (offsets 8 and 10)
    assert_user_error(run("info", "-d", patched("m.npz", (8, 10), 99)), "compression method 99")


def test_directory_loader_never_unpickles(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y).save(tmp_path / "dir")
    np.save(path / "a.npy", np.array([Payload()] * N, dtype=object), allow_pickle=True)
    meta = json.loads((path / "bundle.json").read_text())
    meta["modalities"]["a"].pop("sha256", None)
    (path / "bundle.json").write_text(json.dumps(meta))
    assert_user_error(run("info", "-d", path), "never unpickles")
    assert not marker.exists()


# ---------------------------------------------------------------------- 7. bad input: exit 2, one line
def _dir_bundle_with(tmp_path, edit):
    path = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y).save(tmp_path / "dir")
    meta = json.loads((path / "bundle.json").read_text())
    edit(meta)
    (path / "bundle.json").write_text(json.dumps(meta))
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m["modalities"]["a"].update(file=5), "'file' must be a str"),
        (lambda m: m["modalities"]["a"].update(label=["x"]), "'label' must be a str"),
        (lambda m: m.update(label=["x"]), "'label' must be an object"),
        (lambda m: m["label"].update(names="abc"), "'names' must be a list"),
        (lambda m: m["label"].update(names=[[1], [2], [3]]), "'label.names' must be a list of class names"),
        (lambda m: m["modalities"]["a"].update(dim="4"), "'dim' must be an integer, got '4'"),
        (lambda m: m["modalities"]["a"].update(dim=True), "'dim' must be an integer"),
        (lambda m: m.update(format_version="1"), "format_version '1'"),
    ],
)
def test_malformed_bundle_json_values(tmp_path, edit, message):
    assert_user_error(run("info", "-d", _dir_bundle_with(tmp_path, edit)), message)


def test_deeply_nested_json_is_refused(tmp_path):
    path = cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y).save(tmp_path / "dir")
    (path / "bundle.json").write_text("[" * 200_000 + "]" * 200_000)
    assert_user_error(run("info", "-d", path), "nested too deeply")
    table = tmp_path / "t.csv"
    table.write_text("label,a_0,b_0\n" + "".join(f"{i % 2},{i},{-i}\n" for i in range(20)))
    mapping = tmp_path / "m.json"
    mapping.write_text("[" * 200_000 + "]" * 200_000)
    assert_user_error(run("import", table, "--mapping", mapping, "--out", tmp_path / "o.npz"), "nested too deeply")


@pytest.mark.parametrize(
    "meta, message",
    [("[1, 2]", "must be a JSON object"), ('{"modalities": {"a": 5}}', "an object of objects"),
     ("{not json", "not valid JSON"), ('{"modalities": {"a": {"descr": "x"}}}', "unknown key(s) 'descr'")],
)
def test_malformed_npz_meta(tmp_path, meta, message):
    path = npz(tmp_path, a=A, b=B, label=Y, __meta__=np.array(meta))
    assert_user_error(run("info", "-d", path), message)


def test_import_with_an_empty_separator(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("label,a_0,b_0\n" + "".join(f"{i % 2},{i},{-i}\n" for i in range(20)))
    assert_user_error(run("import", table, "--sep", "", "--out", tmp_path / "o.npz"), "separator is empty")


def test_unavailable_mps_device(good):
    import torch

    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    assert_user_error(run("rank", "-d", good, "-s", "a", "--device", "mps"), "MPS is not available")


def test_many_classes_with_two_samples_each(tmp_path):
    rng = np.random.default_rng(0)
    path = npz(tmp_path, a=rng.standard_normal((1000, 4)), b=rng.standard_normal((1000, 3)), label=np.repeat(np.arange(500), 2))
    assert_user_error(run("rank", "-d", path, "-s", "a", "-c", "b"), "500 class(es) have fewer than 3 paired samples")
    res = run("estimate", "-d", path, "-x", "a", "-f", "json", "-q")
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)["rows"][0]
    assert row["ci"] is None and "too few samples per class" in row["ci_method"]


def test_wide_modality_rank_and_estimate(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 25)
    path = npz(tmp_path, a=(rng.standard_normal((50, 12_000)) + y[:, None]).astype(np.float32), b=rng.standard_normal((50, 3)), label=y)
    res = run("rank", "-d", path, "-s", "b", "-c", "a", "--n-bootstrap", 20, "-f", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows"][0]["teacher_accuracy_on_h"] > 0.9
    assert_user_error(run("estimate", "-d", path, "-x", "a", "-y", "b"), "12003 dimensions")
    assert_user_error(run("rank", "-d", path, "-s", "b", "-c", "a", "-r", "raw"), "12003 representation dimensions")


def test_stdout_to_dev_full_and_a_closed_pipe(good):
    with open("/dev/full", "w") as full:
        res = subprocess.run(CLI + ["info", "-d", str(good)], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert res.returncode == 2 and "cannot write to standard output" in res.stderr and "Traceback" not in res.stderr
    proc = subprocess.Popen(CLI + ["rank", "-d", str(good), "-s", "a", "--n-bootstrap", "20", "-f", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away before anything is written (`| head -0`)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141 and b"Traceback" not in err and b"error" not in err.lower(), err


# ---------------------------------------------------------------------- 8. messages that say what is wrong
def test_duplicated_ids_are_shown_as_plain_values():
    with pytest.raises(cchkit.BundleError, match=r"duplicated sample id 0;"):
        cchkit.ModalityBundle.from_arrays({"a": A, "b": B}, labels=Y, ids=np.r_[0, np.arange(N - 1)])


def test_json_file_as_data_is_named_as_json(tmp_path):
    path = tmp_path / "x.npz"
    path.write_text('{"modalities": {}}')
    res = run("info", "-d", path)
    assert_user_error(res, "looks like JSON text")
    assert "pickle" not in res.output


@pytest.mark.parametrize("name", ["a\n", "a\nb", " a", "a b"])
def test_modality_names_with_whitespace_are_refused(name):
    with pytest.raises(cchkit.BundleError, match="invalid modality name"):
        cchkit.ModalityBundle.from_arrays({name: A, "b": B}, labels=Y)


def test_ten_samples_answer_or_refuse_cleanly(tmp_path):
    rng = np.random.default_rng(0)
    path = npz(tmp_path, a=rng.standard_normal((10, 4)), b=rng.standard_normal((10, 3)), label=np.repeat([0, 1], 5))
    res = run("rank", "-d", path, "-s", "a", "-c", "b", "-f", "json")
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)["rows"][0]
    assert row["decision"] == "inconclusive" and "too few pairs" in row["note"]


# ---------------------------------------------------------------------- 9. wide data: never a confident "helps"
def test_two_noise_blocks_in_800_dims_are_never_helps(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 10)
    path = npz(tmp_path, a=rng.standard_normal((20, 800)), b=rng.standard_normal((20, 800)), label=y)
    # PCA keeps 16 dims each: 32 >= n, so nothing is estimated; raw is refused likewise
    assert_user_error(run("rank", "-d", path, "-s", "a", "-c", "b"), "20 paired samples for 32 representation dimensions")
    assert_user_error(run("rank", "-d", path, "-s", "a", "-c", "b", "-r", "raw"), "too few to estimate MI")
    # with 4 dims each the terms are estimated, but 20 pairs for 8 dims is no basis for a decision
    res = run("rank", "-d", path, "-s", "a", "-c", "b", "--dim", 4, "-f", "json")
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)["rows"][0]
    assert row["decision"] == "inconclusive" and "too few pairs for a decision" in row["note"]


# ---------------------------------------------------------------------- 10. n_jobs
def test_n_jobs_is_capped_at_the_available_cores(caplog):
    from cchkit._parallel import available_cores, effective_n_jobs

    with caplog.at_level("WARNING", logger="cchkit"):
        assert effective_n_jobs(1000) == available_cores()
    assert "more than the" in caplog.text
    assert effective_n_jobs(-1) == available_cores() and effective_n_jobs(1) == 1
    with pytest.raises(cchkit.InputError):
        effective_n_jobs(0)
    assert_user_error(run("rank", "-d", "mfeat", "-s", "mor", "--n-jobs", 0), "n_jobs must be a positive")
    res = run("rank", "-d", "mfeat", "-s", "mor", "-c", "zer", "--n-jobs", 1000, "--n-bootstrap", 10)
    assert res.exit_code == 0 and f"using {available_cores()} workers" in res.output, res.output


def test_validate_passes_n_jobs_to_its_ranking(good, monkeypatch):
    import importlib

    validate_module = importlib.import_module("cchkit.validation.validate")

    seen = {}
    real = validate_module.rank_teachers

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(validate_module, "rank_teachers", spy)
    cchkit.validate(good, "a", ["b"], baseline="no-kd", methods=("logit-kd",), seeds=1, epochs=1, n_jobs=2, progress=False,
                    rank_params={"n_bootstrap": 10})
    assert seen["n_jobs"] == min(2, os.cpu_count() or 1) and seen["n_bootstrap"] == 10


def test_parallel_validate_equals_serial(good):
    kw = dict(methods=("class-align", "logit-kd"), seeds=3, epochs=2, min_steps=0, progress=False,
              rank_params={"n_bootstrap": 10}, random_state=5)
    serial = cchkit.validate(good, "a", ["b", "c"], baseline="no-kd", n_jobs=1, **kw)
    parallel = cchkit.validate(good, "a", ["b", "c"], baseline="no-kd", n_jobs=2, **kw)
    assert serial.to_json() == parallel.to_json()


def test_parallel_default_validate_equals_serial_on_the_cli(good):
    """--n-jobs was refused without --baseline no-kd; now the seeds run on that many processes,
    with the serial output."""
    args = ("validate", "-d", good, "-s", "a", "-c", "b,c", "--seeds", 3, "-m", "class-align", "-f", "json", "--seed", 5)
    serial, parallel = run(*args), run(*args, "--n-jobs", 2)
    assert serial.exit_code == 0 and parallel.exit_code == 0, parallel.output
    drop = lambda text: {k: v for k, v in json.loads(text).items() if k != "seconds"}  # noqa: E731
    assert drop(parallel.stdout) == drop(serial.stdout) and json.loads(serial.stdout)["rows"]


def test_a_refusal_in_a_worker_is_the_serial_one(tmp_path):
    """A seed refused inside a worker reached the user as whichever worker failed first; now the
    first seed's refusal is raised, one line and exit 2, as in the serial run."""
    path = npz(tmp_path, "t.npz", a=A, b=B, label=Y, b__label=np.where(Y == 2, -1, Y))
    args = ("validate", "-d", path, "-s", "a", "-c", "b", "--labels-per-class", 3, "--teacher-labels", "own",
            "--seeds", 4, "-q")
    serial, parallel = run(*args), run(*args, "--n-jobs", 2)
    assert_user_error(serial, "has labelled rows of 2 of the 3 classes in seed")
    assert parallel.output == serial.output


def test_run_chunked_returns_the_results_in_task_order():
    from cchkit._backends import run_chunked

    done = []
    out = run_chunked(_tens, list(range(11)), 3, n_jobs=2, on_chunk=done.append)
    assert out == [30 * t for t in range(11)] and sum(done) == 11 and len(done) > 1


def _tens(chunk, shared):
    return [shared * 10 * t for t in chunk]


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_json(good):
    distributed = pytest.importorskip("distributed")
    args = ("rank", "-d", good, "-s", "a", "-c", "b,c", "--n-bootstrap", 20, "-f", "json", "--seed", 4)
    serial = run(*args)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        on_dask = run(*args, "--n-jobs", 2, "--backend", "dask", "--scheduler", cluster.scheduler_address)
        api = cchkit.rank_teachers(good, "a", ["b", "c"], n_bootstrap=20, random_state=4, n_jobs=2, backend="dask",
                                   scheduler=cluster.scheduler_address)
    assert serial.exit_code == 0 and on_dask.exit_code == 0, on_dask.output
    assert on_dask.stdout == serial.stdout
    assert api.to_json() == cchkit.rank_teachers(good, "a", ["b", "c"], n_bootstrap=20, random_state=4).to_json()


def test_backend_arguments_are_checked(good):
    assert_user_error(run("rank", "-d", good, "-s", "a", "--backend", "spark"), "unknown backend 'spark'")
    assert_user_error(run("rank", "-d", good, "-s", "a", "--scheduler", "tcp://127.0.0.1:1"), "for the Dask backend")


def test_per_modality_labels_that_are_not_vectors_are_refused(tmp_path):
    """Found by the fuzz test: a (0, 0) '<modality>__label' crashed np.concatenate (exit 1)."""
    path = npz(tmp_path, "m.npz", a=A, b=B, label=Y, b__label=np.zeros((len(Y), 2)))
    assert_user_error(run("info", "-d", path), "labels of 'b' must be a vector with one label per sample, got shape")


@pytest.mark.slow
def test_validate_on_a_dask_local_cluster_gives_the_local_json(good, monkeypatch):
    """Issue #26, item 6: the distillation runs of validate go out on the ranking's backends; the
    seeds are sent in chunks, each chunk's students train as one stack on a worker, and the report
    is the local one. With 5 seeds the first 3 choose the settings in one task and the other 2
    go out in chunks with those settings. The default measurement's seeds go out too (with no
    n_jobs they ran here, the backend dropped), also from advise."""
    distributed = pytest.importorskip("distributed")
    import cchkit.fewlabels.validate as few

    sent_to = []
    real = few.run_chunked

    def spy(fn, tasks, shared, **kw):
        sent_to.append(kw["backend"])
        return real(fn, tasks, shared, **kw)

    monkeypatch.setattr(few, "run_chunked", spy)
    kw = dict(seeds=5, epochs=2, rank_params={"n_bootstrap": 10}, random_state=5, progress=False)
    local = cchkit.validate(good, "a", ["b", "c"], baseline="no-kd", **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        on_dask = cchkit.validate(good, "a", ["b", "c"], baseline="no-kd", n_jobs=2, backend="dask", scheduler=cluster.scheduler_address,
                                  **kw)
        default_kw = dict(seeds=3, methods=["class-align"], random_state=5, progress=False)
        # no n_jobs: the cluster's workers are the parallel ones
        default_on_dask = cchkit.validate(good, "a", ["b", "c"], backend="dask", scheduler=cluster.scheduler_address,
                                          **default_kw)
        advised = run("advise", "-d", good, "-s", "a", "-c", "b,c", "--seeds", 3, "--budget", "0.001", "-f", "json",
                      "--backend", "dask", "--scheduler", cluster.scheduler_address)
    assert on_dask.to_json() == local.to_json()
    assert default_on_dask.to_json() == cchkit.validate(good, "a", ["b", "c"], **default_kw).to_json()
    assert advised.exit_code == 0, advised.output
    assert sent_to == ["dask", "dask"]
    assert json.loads(advised.stdout)["validation"]["summary"]["n_labelled"] > 0
    with pytest.raises(cchkit.InputError, match="unknown backend 'spark'"):
        cchkit.validate(good, "a", ["b"], backend="spark", **kw)


@pytest.mark.parametrize("call", ["rank", "validate"])
def test_an_empty_name_between_commas_is_refused_in_the_api_too(call):
    """'image,,text' once read as ['image', 'text']: a name lost to a typo changed the question."""
    b = cchkit.datasets.load("digits-avt")
    f = cchkit.rank_teachers if call == "rank" else cchkit.validate
    with pytest.raises(cchkit.exceptions.InputError, match="has an empty name between commas"):
        f(b, "audio", "image,,text")


@pytest.mark.parametrize("command", [("rank", "-c", "b"), ("validate", "-c", "b", "--labels-per-class", "5")])
def test_a_bundle_whose_every_label_is_missing_says_so(tmp_path, command):
    """Every label -1 (unlabeled): the refusal says that no row has a label, not '0 class(es)'."""
    rng = np.random.default_rng(0)
    path = npz(tmp_path, a=rng.standard_normal((60, 4)), b=rng.standard_normal((60, 3)), label=np.full(60, -1))
    assert_user_error(run(command[0], "-d", path, "-s", "a", *command[1:]), "no row has a label")


def test_a_dataframe_whose_label_column_is_all_missing_says_so():
    import pandas as pd

    df = pd.DataFrame(np.random.default_rng(0).standard_normal((40, 2)), columns=["a_0", "b_0"]).assign(y=np.nan)
    with pytest.raises(cchkit.exceptions.BundleError, match="no row has a label"):
        cchkit.load_bundle(df, label="y")
