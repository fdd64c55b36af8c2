"""Run logs in MLflow (issue #27), offline, in a temporary local store."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import cchkit

mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def store(tmp_path, monkeypatch):
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return uri


def _only_run(uri):
    client = mlflow.tracking.MlflowClient(uri)
    exp = client.get_experiment_by_name("cchkit")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    return client, runs[0]


def test_a_ranking_is_logged_with_its_settings_metrics_and_json(store):
    r = cchkit.rank_teachers("digits-avt", "audio", ["image", "text"], n_bootstrap=20, log="mlflow")
    client, run = _only_run(store)
    t = r.table.set_index("teacher")
    assert run.data.params["criterion"] == r.settings["criterion"] and run.data.params["n_bootstrap"] == "20"
    assert run.data.metrics["audio/image/cch_score"] == pytest.approx(t.loc["image", "cch_score"])
    assert run.data.metrics["audio/text/predicts_gain"] == float(t.loc["text", "predicts_gain"])
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["rank.json"]


def test_the_cli_logs_the_report_and_refuses_an_unknown_tracker(store, tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": store}
    res = subprocess.run([sys.executable, "-m", "cchkit", "rank", "-s", "audio", "-c", "image", "--n-bootstrap", "20",
                          "--quiet", "--log", "mlflow"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "logged to MLflow run" in res.stderr
    client, run = _only_run(store)
    assert sorted(a.path for a in client.list_artifacts(run.info.run_id)) == ["rank.json", "rank_report.html"]
    res = subprocess.run([sys.executable, "-m", "cchkit", "rank", "-s", "audio", "--log", "mlfow"], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=120)
    assert res.returncode == 2 and res.stderr.strip() == "error: unknown run log 'mlfow'; choose one of mlflow."
    with pytest.raises(cchkit.InputError, match="unknown run log 'wandb'"):
        cchkit.rank_teachers("digits-avt", "audio", log="wandb")


def test_an_advice_is_one_named_run_with_its_own_answer_the_data_and_the_users_budget(store):
    a = cchkit.advise("wdbc", "mean", ["se"], seeds=3, budget=3.0, rank_params={"n_bootstrap": 20})
    run_id = cchkit.runlog.log_result(a, command="cchkit advise -d wdbc -s mean")
    client, run = _only_run(store)
    assert run.info.run_id == run_id and run.info.run_name == "cchkit advise wdbc mean"
    tags = run.data.tags
    assert tags["advice"] == (a.teacher or "none: train the student alone") and tags["advice_text"] == a.text
    assert "verdict" not in tags  # one answer: advise's, not also the validation's verdict on the ranking
    digest = cchkit.load_bundle("wdbc").digest()
    assert tags["cchkit.data"] == "wdbc" and tags["cchkit.data_sha256"] == digest
    assert run.data.params["budget"] == "3.0"  # the caller's, not what the validation was left
    duration = (run.info.end_time - run.info.start_time) / 1000
    assert abs(duration - a.seconds) < 0.5  # the work's time, not the logging's
    inputs = run.inputs.dataset_inputs
    assert [d.dataset.name for d in inputs] == ["wdbc"] and digest.startswith(inputs[0].dataset.digest)


def test_a_validation_records_its_data_and_digest(store):
    r = cchkit.validate("wdbc", "mean", ["se"], baseline="no-kd", seeds=2, epochs=2, min_steps=0, log="mlflow")
    _, run = _only_run(store)
    assert run.info.run_name == "cchkit validate wdbc mean"
    assert run.data.tags["cchkit.data_sha256"] == r.summary["data_sha256"] == cchkit.load_bundle("wdbc").digest()
