"""The wheel carries its data: built here, installed into a fresh venv outside the repository,
it runs the demo and a short validation on the bundled data."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the Makefile's pin: the CPU wheel on this machine's disk (a plain `torch` pulls a CUDA build)
TORCH_PIN = os.environ.get("TORCH_PIN", "torch==2.13.0")


def _run(cmd, **kw):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert res.returncode == 0, (cmd, res.stdout[-2000:], res.stderr[-2000:])
    return res


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_runs_rank_and_validate(tmp_path):
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", wheels], timeout=600)
    (wheel,) = wheels.glob("cchkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for bundle in ("digits-avt", "mfeat", "wdbc", "digits-rows"):
        assert f"cchkit/datasets/data/{bundle}/bundle.json" in names
    for record in ("criteria/track_record.json", "criteria/regime_records.json", "fewlabels/track_record.json"):
        assert f"cchkit/{record}" in names  # the studies' records the advice quotes
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout=300)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    _run(pip + [TORCH_PIN], timeout=900)
    _run(pip + [wheel], timeout=900)
    env = {k: v for k, v in os.environ.items() if k not in ("CCHKIT_DATA_DIR", "PYTHONPATH")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cli = venv / "bin" / "cchkit"
    rank = _run([cli, "rank", "--student", "audio", "--candidates", "image,text", "-q"], cwd=elsewhere, env=env, timeout=600)
    assert "advice for audio:" in rank.stdout
    assert "label regime: every label (all-same); the study with every label chose this criterion" in rank.stdout
    where = _run([venv / "bin" / "python", "-c", "import cchkit; print(cchkit.datasets.data_dir())"], cwd=elsewhere, env=env)
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout  # the installed copy, not the checkout
    val = _run([cli, "validate", "--student", "audio", "--candidates", "image", "--seeds", "3", "-q"], cwd=elsewhere,
               env=env, timeout=600)
    assert val.stdout.startswith("verdict: With every training row labelled") and "best teacher-free" in val.stdout
