"""Run logs: a ranking, a validation or an advice recorded in an experiment tracker.

MLflow (the open standard; ``pip install 'cchkit[mlflow]'``) with a local store by default:
``./mlruns`` in the working directory, or wherever ``MLFLOW_TRACKING_URI`` (or ``tracking_uri``)
points. Nothing is sent anywhere unless the user points MLflow at a server. A run records the
settings as parameters, every row's numbers as metrics (``<student>/<teacher>/<column>``, or
``<teacher>/<method>/<column>`` for a validation), the verdict (``advise``: its own answer) as a tag,
the data's name and SHA-256 as tags and as a dataset input, and the JSON result and the HTML report
as artifacts. A run is named ``cchkit <command> <data> <student>``, and its start and end are the
work's.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._json import dump_json, jsonable
from .exceptions import InputError

logger = logging.getLogger("cchkit")

__all__ = ["LOGGERS", "log_result", "check_log", "redact"]

#: Trackers :func:`log_result` can write to.
LOGGERS: tuple[str, ...] = ("mlflow",)
_RANK_METRICS = ("cch_score", "cch_low", "cch_high", "i_teacher_student", "i_student_label", "i_teacher_label",
                 "label_gain", "teacher_accuracy_on_h", "student_accuracy_on_h", "mfh_score", "pid_unique", "probe_kd",
                 "rank", "predicts_gain")
_VALIDATE_METRICS = ("acc_none", "acc_probe", "acc", "gain", "gain_low", "gain_high", "significant",
                     "teacher_net_accuracy")


def _metric_name(*parts: Any) -> str:
    return "/".join(re.sub(r"[^A-Za-z0-9_.\- ]", "_", str(p)) for p in parts)


def _metrics(table: Any, keys: tuple[str, str], columns: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for row in table.to_dict("records"):
        for col in columns:
            v = row.get(col)
            try:
                v = float(v)
            except (TypeError, ValueError):
                continue
            if np.isfinite(v):
                out[_metric_name(row[keys[0]], row[keys[1]], col)] = v
    return out


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = str(v)[:500]  # MLflow's parameter values are short strings
    return out


@dataclass
class _Run:
    """What one run records."""

    kind: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    text: str
    seconds: float = math.nan
    data: str = ""
    data_sha256: str = ""
    student: str = ""

    @property
    def name(self) -> str:
        """``cchkit <command> <data> <student>``: what a user scans the runs list by."""
        return " ".join(p for p in ("cchkit", self.kind, self.data, self.student) if p)


def _identity(record: dict[str, Any]) -> dict[str, str]:
    return {k: str(record.get(k) or "") for k in ("data", "data_sha256", "student")}


def _content(result: Any) -> _Run:
    """What a Ranking, ValidationReport, FewLabelReport or Advice records."""
    kind = type(result).__name__
    if kind == "Ranking":
        return _Run("rank", _flat(result.settings), _metrics(result.table, ("student", "teacher"), _RANK_METRICS),
                    {"criterion": str(result.settings.get("criterion", ""))}, result.to_json(),
                    seconds=float(result.seconds), **_identity(result.settings))
    if kind == "ValidationReport":
        summary = {k: v for k, v in result.summary.items() if not isinstance(v, (dict, list)) or k == "baseline"}
        verdict = (result.summary.get("verdict") or {}).get("text", "")
        return _Run("validate", _flat(summary), _metrics(result.table, ("teacher", "method"), _VALIDATE_METRICS),
                    {"verdict": verdict[:5000]}, result.to_json(), seconds=float(result.summary.get("seconds", math.nan)),
                    **_identity(result.summary))
    if kind == "FewLabelReport":
        summary = {k: v for k, v in result.summary.items() if not isinstance(v, (dict, list))}
        summary |= {f"regime.{k}": v for k, v in result.summary["regime"].items()}
        metrics = _metrics(result.table, ("teacher", "method"), ("acc", "gain", "gain_low", "gain_high", "vs_placebo"))
        return _Run("validate", _flat(summary), metrics, {"verdict": result.summary["verdict"]["text"][:5000]},
                    result.to_json(), seconds=float(result.summary.get("seconds", math.nan)),
                    **_identity(result.summary))
    if kind == "Advice":
        return _advice_content(result)
    raise InputError(f"cannot log a {kind}; log a Ranking, a ValidationReport or an Advice.")


def _advice_content(advice: Any) -> _Run:
    """advise's own answer, once (the validation's verdict on the ranking stays in its JSON), with
    the budget the caller gave, not what the validation was left."""
    run = _content(advice.validation)
    params = {k: v for k, v in run.params.items() if k != "budget"}
    if advice.budget is not None:
        params["budget"] = str(advice.budget)
    tags = {"advice": advice.teacher or "none: train the student alone", "advice_text": advice.text[:5000]}
    return _Run("advise", params, run.metrics, tags, dump_json(jsonable(advice.to_dict())),
                seconds=float(advice.seconds), data=run.data, data_sha256=run.data_sha256, student=run.student)


def redact(uri: str) -> str:
    """A URI with its user and password removed (``http://user:secret@host`` -> ``http://***@host``)."""
    return re.sub(r"(?<=://)[^/@\s]+@", "***@", str(uri))


def _tracking_uri(tracking_uri: str | None = None) -> str:
    return tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or Path("mlruns").resolve().as_uri()


def _check_store(uri: str) -> None:
    """Refuse, before any work, a store that cannot take the run: a malformed URI, a local
    directory that cannot be written, a server that does not answer within a few seconds."""
    from urllib.parse import urlparse

    parsed = urlparse(uri)
    shown = redact(uri)
    if parsed.scheme in ("", "file"):
        path = Path(parsed.path if parsed.scheme == "file" else uri)
        try:  # the store MLflow would create: made now, so that a store it cannot write fails before any work
            path.mkdir(parents=True, exist_ok=True)
            ok = path.is_dir() and os.access(path, os.W_OK)
        except OSError:
            ok = False
        if not ok:
            raise InputError(f"the MLflow store {shown} cannot be written; point MLFLOW_TRACKING_URI elsewhere.")
        return
    if parsed.scheme in ("http", "https"):
        import socket

        if not parsed.hostname:
            raise InputError(f"the MLflow tracking URI {shown} names no host.")
        try:
            with socket.create_connection((parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)),
                                          timeout=3):
                return
        except (OSError, ValueError) as exc:
            raise InputError(f"the MLflow server {shown} does not answer ({type(exc).__name__}); start it or "
                             "unset MLFLOW_TRACKING_URI for a local ./mlruns store.") from None
    if parsed.scheme not in ("databricks", "sqlite", "postgresql", "mysql", "mssql"):
        raise InputError(f"the MLflow tracking URI {shown} has an unknown scheme {parsed.scheme!r}.")


def check_log(to: str | None, tracking_uri: str | None = None) -> None:
    """Refuse, before any work, an unknown tracker, a missing MLflow, or a store that cannot
    take the run (None: no log)."""
    if to is None:
        return
    if to not in LOGGERS:
        raise InputError(f"unknown run log {to!r}; choose one of {', '.join(LOGGERS)}.")
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise InputError("--log mlflow needs MLflow: pip install 'cchkit[mlflow]' (or mlflow-skinny).") from None
    _check_store(_tracking_uri(tracking_uri))


def log_result(result: Any, *, to: str = "mlflow", html: str | None = None, command: str = "",
               tracking_uri: str | None = None, experiment: str = "cchkit") -> str:
    """Record ``result`` as one run; returns the run id. See the module docstring."""
    check_log(to, tracking_uri)
    import mlflow

    uri = _tracking_uri(tracking_uri)
    if uri.startswith("file:") or "://" not in uri:  # a local store is what this log is for (MLflow >= 3 asks to opt in)
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    run = _content(result)
    try:
        return _write_run(mlflow, uri, experiment, run, html, command)
    except InputError:
        raise
    except Exception as exc:  # the store refused the run: one line, credentials removed
        raise InputError(f"MLflow could not record the run at {redact(uri)}: "
                         f"{redact(' '.join(str(exc).split()))[:300]}") from None


def _write_run(mlflow: Any, uri: str, experiment: str, run: _Run, html: str | None, command: str) -> str:
    """One run whose start and end are the work's (not the logging's), then its contents."""
    from mlflow.entities import Metric, Param, RunTag

    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp is not None else client.create_experiment(experiment)
    end_ms = int(time.time() * 1000)
    start_ms = end_ms - int(1000 * run.seconds) if math.isfinite(run.seconds) else end_ms
    tags = {**run.tags, "cchkit.command": redact(command or run.kind), "cchkit.data": run.data,
            "cchkit.data_sha256": run.data_sha256, "cchkit.student": run.student}
    created = client.create_run(exp_id, start_time=start_ms, run_name=run.name)
    run_id = created.info.run_id
    items = [Param(k, v) for k, v in run.params.items()]
    for i in range(0, len(items), 100):  # MLflow takes at most 100 parameters per batch
        client.log_batch(run_id, params=items[i:i + 100])
    metrics = [Metric(k, v, end_ms, 0) for k, v in run.metrics.items()]
    for i in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[i:i + 1000])
    client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])
    _log_dataset(client, run_id, run)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / f"{run.kind}.json").write_text(run.text, encoding="utf-8")
        client.log_artifact(run_id, str(Path(tmp) / f"{run.kind}.json"))
        if html is not None:
            (Path(tmp) / f"{run.kind}_report.html").write_text(html, encoding="utf-8")
            client.log_artifact(run_id, str(Path(tmp) / f"{run.kind}_report.html"))
    client.set_terminated(run_id, end_time=end_ms)
    logger.info("logged the %s to MLflow run %s at %s", run.kind, run_id, redact(uri))
    return str(run_id)


def _log_dataset(client: Any, run_id: str, run: _Run) -> None:
    """The data as an MLflow dataset input (name and digest), where this MLflow version has them;
    the same name and digest are tags in any case."""
    if not run.data_sha256:
        return
    try:
        from mlflow.data.code_dataset_source import CodeDatasetSource
        from mlflow.data.meta_dataset import MetaDataset
        from mlflow.entities import DatasetInput
    except ImportError:
        return
    try:
        dataset = MetaDataset(source=CodeDatasetSource(tags={"cchkit.data": run.data}), name=run.data or "data",
                              digest=run.data_sha256[:36])
        client.log_inputs(run_id, datasets=[DatasetInput(dataset._to_mlflow_entity())])
    except Exception as exc:  # an MLflow without dataset inputs: the tags carry the same
        logger.info("MLflow took no dataset input (%s); the data are in the run's tags", type(exc).__name__)
