"""One self-contained HTML page for a ranking or a validation: the verdict first, a plot with
both sides of the decision, a short table with plain headers and a glossary (every column in a
collapsible section), and where the numbers came from.

Everything is inline (plots as base64 PNG, styles in the page): the file can be mailed, attached
to a lab notebook or opened offline, on a laptop or a phone. Written by
``cchkit rank/validate/advise --report report.html``. The verdict's words come from the same
code as the CLI's (:func:`cchkit.ranking.verdict.advice_lines`, the validation's ``verdict``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import html
import io
import json
import platform
import sys
from typing import Any

__all__ = ["ranking_report", "validation_report", "provenance", "git_commit"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; } td, th { border: 1px solid #ddd; padding: 3px 6px; }
th { background: #f3f3f3; } td { text-align: right; } .note { color: #555; font-size: 0.9em; }
.verdict { font-size: 1.05em; padding: 0.6em 0.8em; background: #f4f6fb; border-left: 4px solid #46a; }
.verdict p { margin: 0.3em 0; } .wide { overflow-x: auto; } img { max-width: 100%; height: auto; }
dl { font-size: 0.85em; } dt { font-weight: 600; } dd { margin: 0 0 0.4em 1.2em; color: #444; }
.provenance td { text-align: left; word-break: break-all; }
pre { background: #f7f7f7; padding: 0.6em; font-size: 0.8em; overflow-x: auto; white-space: pre-wrap; }
"""

#: Plain headers of the short tables, and what each column means (the glossary).
GLOSSARY: dict[str, tuple[str, str]] = {
    "teacher": ("teacher", "the candidate modality that would teach the student"),
    "student": ("student", "the modality being taught"),
    "advice": ("advice", "the deciding criterion's decision: helps, hurts, or inconclusive (no clear effect expected)"),
    "decision": ("CCH decision", "the paper's rule: helps when the CCH score's 95% interval is above 0"),
    "cch": ("CCH score [95%]", "I(H_T; H_S) − I(H_S; Y) in nats, on the ranking's representations H"),
    "teacher_accuracy_on_h": ("teacher acc. on H", "cross-validated linear accuracy of the teacher's representation"),
    "student_accuracy_on_h": ("student acc. on H", "the same for the student"),
    "rank": ("rank", "order of the teachers by the deciding criterion (1 = best)"),
    "criterion_value": ("deciding value [95%]", "the value of the criterion the advice follows (named in the "
                        "verdict above), with its interval where it has one"),
    "criterion_threshold": ("helps above", "the value the deciding criterion must pass for 'helps' (its band, "
                            "fitted by the criterion study)"),
    "method": ("method", "the distiller: class-align (unpaired, default) or logit-kd (paired)"),
    "acc_none": ("no-KD MLP", "the tuned student without a teacher (test accuracy, mean over seeds)"),
    "acc_probe": ("linear probe", "a tuned logistic regression on the student's training split"),
    "acc": ("with KD", "the tuned student distilled from the teacher"),
    "gain": ("gain [95%]", "with KD minus the stronger of the no-KD MLP and the probe, paired by seed"),
    "significant": ("significant", "the gain's 95% interval excludes 0 (3 seeds or more)"),
    "teacher_labels": ("teacher labels", "same: the teacher learned from the student's labelled samples only; own: from "
                       "every labelled row of its modality but the test samples, cross-fitted so that its target "
                       "on a sample never came from that sample's label"),
    "acc_fl": ("with the teacher", "test accuracy of the KD student chosen on the labelled rows alone (cross-validation "
                                   "with few labels, one validation split with many)"),
    "gain_fl": ("gain [95%]", "with the teacher minus the best teacher-free student (supervised, label smoothing or "
                "self-training, chosen the same way), paired by seed"),
    "vs_placebo": ("over the placebo [95%]", "with the teacher minus the same search with the teacher trained on "
                   "permuted labels: what the teacher's knowledge adds"),
    "helps": ("helps", "a significant gain that also beats the placebo"),
    "teacher_cv_accuracy": ("teacher CV acc.", "the teacher cross-validated on its labelled training rows (the "
                            "criterion that predicts the best teacher)"),
    "teacher_model": ("teacher model", "the teacher's family: linear (softmax regression, the default) or mlp "
                      "(one hidden layer, where it is a candidate and cross-validates better)"),
}


def provenance(bundle: Any = None, *, settings: dict[str, Any] | None = None, command: str | None = None,
               seconds: float | None = None) -> dict[str, Any]:
    """Where a result came from: cchkit version (and git commit when run from a checkout),
    command, date, data name and SHA-256, the settings that matter (seeds, epochs, methods, train
    size, budget), the device it computed on, the threads, library versions, wall time."""
    import numpy as np
    import sklearn

    from . import __version__

    s = settings or {}
    torch = sys.modules.get("torch")
    keep = ("seeds", "epochs", "methods", "method", "train_size", "test_size", "estimators", "representation",
            "variant", "dim", "n_bootstrap", "criterion", "random_state", "budget", "labels_per_class",
            "labelled_fraction", "teacher_labels", "selection", "tune", "tuning")
    return {
        "cchkit": __version__, "git_commit": git_commit(), "command": command or "(Python API)",
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "data": getattr(bundle, "name", None) or s.get("data", ""),
        "data_sha256": bundle.digest() if bundle is not None else "(no bundle given)",
        **{k: s[k] for k in keep if k in s},
        "device": _resolved_device(s.get("device", "cpu")),
        "threads": torch.get_num_threads() if torch is not None else 1,
        "python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__,
        "torch": getattr(torch, "__version__", "(not loaded)"),
        "wall_time_s": None if seconds is None else round(float(seconds), 2),
    }


def _resolved_device(device: Any) -> str:
    """The device the numbers were computed on: ``auto`` as :func:`cchkit._torch.resolve_device`
    resolves it (the CPU, unless CUDA is there for the neural estimates large enough to pay)."""
    if device not in (None, "auto"):
        return str(device)
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return "auto -> cpu"
    from ._torch import GPU_MIN_ROWS_NEURAL

    return f"auto -> cuda for neural MI estimates from {GPU_MIN_ROWS_NEURAL:,} rows, cpu for the rest"


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the checkout cchkit runs from (``+dirty`` with uncommitted changes), or
    ``"(not a git checkout)"`` for an installed package: ``0.1.0`` names every commit."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return "(not a git checkout)"
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "(git unavailable)"
    return head + ("+dirty" if dirty else "")


def _plot(draw: Any, size: tuple[float, float] = (7.5, 3.8)) -> str:
    """``draw(ax)`` on a stand-alone figure (no pyplot: the user's backend is left alone), as an
    inline PNG ``<img>``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    draw(fig.subplots())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return '<img alt="plot" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode("ascii") + '">'


def _table(df: Any) -> str:
    return df.to_html(index=False, na_rep="–", float_format=lambda v: f"{v:.3f}", border=0)


def _interval(v: float, lo: float, hi: float) -> str:
    import math

    if not math.isfinite(v):
        return "–"
    return f"{v:+.3f} [{lo:+.3f}, {hi:+.3f}]" if math.isfinite(lo) and math.isfinite(hi) else f"{v:+.3f}"


def _short(df: Any, columns: dict[str, Any]) -> str:
    """A short table with plain headers (``columns``: glossary key -> values) and its glossary."""
    import pandas as pd

    view = pd.DataFrame({GLOSSARY[k][0]: v for k, v in columns.items()})
    for c in view.select_dtypes(include="bool").columns:  # a reader's yes / no (the JSON keeps true / false)
        view[c] = view[c].map({True: "yes", False: "no"})
    terms = "".join(f"<dt>{html.escape(GLOSSARY[k][0])}</dt><dd>{html.escape(GLOSSARY[k][1])}</dd>" for k in columns)
    return f'<div class="wide">{_table(view)}</div><dl>{terms}</dl>'


def _all_columns(df: Any) -> str:
    return (f"<details><summary>all {df.shape[1]} columns (also in the JSON output)</summary>"
            f'<div class="wide">{_table(df)}</div></details>')


def _page(title: str, verdict: list[str], sections: list[tuple[str, str]]) -> str:
    head = '<div class="verdict">' + "".join(f"<p>{html.escape(line)}</p>" for line in verdict) + "</div>"
    body = "".join(f"<h2>{html.escape(h)}</h2>\n{content}\n" for h, content in sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n{head}\n{body}</body></html>\n")


def _provenance_cell(v: Any) -> str:
    """A provenance value as a reader writes it (the JSON keeps the values themselves): a list as
    its items, a mapping as ``key: value`` pairs, None as "not set", a bool as yes or no."""
    if v is None:
        return "not set"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_provenance_cell(x)}" for k, x in v.items()) or "none"
    if isinstance(v, (list, tuple)):
        return ", ".join(_provenance_cell(x) for x in v) or "none"
    return str(v)


def _provenance_block(prov: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th>"
                   f"<td style=\"text-align:left\">{html.escape(_provenance_cell(v))}</td></tr>"
                   for k, v in prov.items())
    return f'<div class="wide"><table class="provenance">{rows}</table></div>'


def _data_summary(bundle: Any) -> str:
    if bundle is None:
        return '<p class="note">(no bundle given)</p>'
    head = (f"<p>bundle <b>{html.escape(str(bundle.name))}</b>: {len(bundle)} modalities, {bundle.n_classes} classes</p>")
    return head + _table(bundle.summary().drop(columns="description"))


def ranking_report(ranking: Any, bundle: Any = None, *, command: str | None = None) -> str:
    """The HTML page of a :class:`~cchkit.ranking.Ranking` (and the bundle it was made from)."""
    from .plotting import plot_mi_matrix
    from .ranking.table import deciding_intervals
    from .ranking.verdict import advice_lines

    t = ranking.table
    short = _short(t, {
        **({"student": t["student"]} if t["student"].nunique() > 1 else {}), "teacher": t["teacher"],
        "rank": t["rank"].astype("object").where(t["rank"].notna(), "–"),
        "criterion_value": [_interval(*r) for r in deciding_intervals(t, ranking.settings.get("criterion") or "cch_score")],
        "criterion_threshold": t["criterion_threshold"],
        "advice": t["advice"].fillna("–"), "decision": t["decision"],
        "cch": [_interval(*r) for r in t[["cch_score", "cch_low", "cch_high"]].itertuples(index=False)],
        "teacher_accuracy_on_h": t["teacher_accuracy_on_h"], "student_accuracy_on_h": t["student_accuracy_on_h"]})
    remarks = [f"{html.escape(str(r['student']))} &lt;- {html.escape(str(r['teacher']))}: {html.escape(str(r[c]))}"
               for r in t.to_dict(orient="records") for c in ("label_check", "note", "error")
               if isinstance(r.get(c), str) and r[c] not in ("", "ok")]
    sections = [("Scores with intervals", _plot(lambda ax: ranking.plot(ax=ax)))]
    if t["student"].nunique() > 1:
        sections.append(("Teacher × student (CCH score)", _plot(lambda ax: plot_mi_matrix(ranking, ax=ax), (7.5, 6))))
    sections += [
        ("Table", short + _all_columns(t)),
        ("Checks and notes", "<ul>" + "".join(f"<li>{m}</li>" for m in remarks) + "</ul>" if remarks
         else '<p class="note">every label term is consistent with its variational lower bound.</p>'),
        ("Where these numbers came from", _provenance_block(provenance(
            bundle, settings=ranking.settings, command=command, seconds=ranking.seconds))),
        ("Data", _data_summary(bundle)),
    ]
    return _page(f"cchkit ranking: {ranking.settings.get('data', '')}", advice_lines(ranking), sections)


def validation_report(report: Any, bundle: Any = None, *, command: str | None = None,
                      answer: str | None = None, advice: Any = None) -> str:
    """The HTML page of a :class:`~cchkit.validation.ValidationReport`; with ``advice`` (an
    :class:`~cchkit.advice.Advice`, or only its ``answer`` text), the page of that advice: its
    answer first, then the ranking's prediction and whether it held, then the measurement, with
    advise's own budget and time in the provenance."""
    import pandas as pd

    from .validation.stacked import tuned_line

    s = report.summary
    t = report.table
    short = _short(t, {
        "teacher": t["teacher"], "method": t["method"], "acc_none": t["acc_none"], "acc_probe": t["acc_probe"],
        "acc": t["acc"], "gain": [_interval(*r) for r in t[["gain", "gain_low", "gain_high"]].itertuples(index=False)],
        "significant": t["significant"], "decision": t["decision"]})
    crit = [_criterion_row("cch_score", s)] + [_criterion_row(name, c) for name, c in s.get("baselines", {}).items()]
    verdict = [str(s.get("verdict", {}).get("text", "-")), str(s.get("power", {}).get("statement", ""))]
    settings = {"data": getattr(bundle, "name", ""), "seeds": s.get("seeds"), "method": s.get("method"),
                **(s.get("settings") or {}), "tuning": tuned_line(s.get("tuned")), "budget": s.get("budget")}
    answer, settings, seconds = _advice_parts(advice, answer, settings, s.get("seconds"))
    sections = [
        ("Criterion against measured gain (dots: one seed each)", _plot(lambda ax: report.plot(ax=ax))),
        ("Gains", short + _all_columns(t)),
        ("Does each criterion predict the gain?", _table(pd.DataFrame(crit))),
        ("Where these numbers came from", _provenance_block(provenance(bundle, settings=settings, command=command,
                                                                       seconds=seconds))),
        ("Summary (JSON)", "<details><summary>the validation's summary</summary><pre>" + html.escape(
            json.dumps({k: v for k, v in s.items() if k not in ("baselines", "power", "verdict")}, indent=2,
                       default=str)) + "</pre></details>"),
        ("Data", _data_summary(bundle)),
    ]
    kind = "advice" if answer else "validation"
    title = f"cchkit {kind}: {getattr(bundle, 'name', '') or 'data'}, student {s.get('student', '')}"
    # advise's answer already ends with the power statement: the page says it once
    lines = [f"Advice: {answer}", verdict[0]] if answer else verdict
    return _page(title, lines, sections)


def _criterion_row(name: str, stats: dict[str, Any]) -> dict[str, Any]:
    """A criterion's agreement with the gains; "within noise" where the gains have no order."""
    row = {"criterion": name, **{k: stats.get(k) for k in ("spearman", "sign_agree", "n_significant", "top_is_best")}}
    if stats.get("gains_separated") is False:
        row.update(spearman="within noise", top_is_best="within noise")
    return row


def _advice_parts(advice: Any, answer: str | None, settings: dict[str, Any],
                  seconds: float | None) -> tuple[str | None, dict[str, Any], float | None]:
    """(answer, settings, seconds) of an advice page: advise's text, the budget the caller gave
    (the validation's own is what the ranking left it) and the whole call's time."""
    if advice is None:
        return answer, settings, seconds
    return advice.text, {**settings, "budget": advice.budget}, advice.seconds


def _ranking_section(advice: Any) -> list[tuple[str, str]]:
    """The ranking an advice measured (its prediction is in the answer), as a short table."""
    ranking = getattr(advice, "ranking", None)
    if ranking is None:
        return []
    cols = [c for c in ("rank", "teacher", "advice", "criterion", "criterion_value", "criterion_threshold",
                        "cch_score", "decision") if c in ranking.table]
    return [("The ranking's prediction", _table(ranking.table[cols]))]


def few_label_report(report: Any, bundle: Any = None, *, command: str | None = None,
                     answer: str | None = None, advice: Any = None) -> str:
    """The HTML page of a :class:`~cchkit.fewlabels.FewLabelReport`: the verdict, what the
    criterion predicted, the accuracies, the gains over the best teacher-free student and the
    placebo margins."""

    s = report.summary
    t = report.table.sort_values("gain", ascending=False)
    short = _short(t, {
        "teacher": t["teacher"], "method": t["method"], "teacher_labels": t["teacher_labels"], "acc_fl": t["acc"],
        "gain_fl": [_interval(*r) for r in t[["gain", "gain_low", "gain_high"]].itertuples(index=False)],
        "vs_placebo": [_interval(*r) for r in t[["vs_placebo", "vs_placebo_low", "vs_placebo_high"]].itertuples(index=False)],
        "helps": t["helps"], "teacher_cv_accuracy": t["teacher_cv_accuracy"], "teacher_model": t["teacher_model"]})
    settings = {"data": getattr(bundle, "name", ""), "seeds": s.get("seeds"), "methods": s.get("methods"),
                **s.get("regime", {}), "teacher_labels": s.get("teacher_labels"), "selection": s.get("selection")}
    answer, settings, seconds = _advice_parts(advice, answer, settings, s.get("seconds"))
    verdict = [f"Advice: {answer}"] if answer else [str(s["verdict"]["text"])]
    prediction = str((s.get("prediction") or {}).get("text", ""))
    if prediction not in verdict[0]:  # advise's answer already ends with it: the page says it once
        verdict.append(prediction)
    sections = [
        ("Accuracy of every student (x: the placebo teacher; dashed: the best teacher-free student)",
         _plot(lambda ax: report.plot(ax=ax))),
        ("Gains", short + _all_columns(t)),
        ("Teacher-free students", _table(report.baselines)),
        *_ranking_section(advice),
        ("Where these numbers came from", _provenance_block(provenance(bundle, settings=settings, command=command,
                                                                       seconds=seconds))),
        ("Data", _data_summary(bundle)),
    ]
    regime = "every label" if not s.get("n_unlabeled") else s.get("regime_text", "few labels")
    title = f"cchkit validation ({regime}): {getattr(bundle, 'name', '') or 'data'}, student {s.get('student', '')}"
    return _page(title, verdict, sections)

