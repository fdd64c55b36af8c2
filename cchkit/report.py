"""One self-contained HTML page for a ranking or a validation: tables, plots, settings, data.

Everything is inline (plots as base64 PNG, styles in the page): the file can be mailed, attached
to a lab notebook or opened offline. Written by ``cchkit rank/validate --report report.html``.
"""

from __future__ import annotations

import base64
import html
import io
import json
from typing import Any

__all__ = ["ranking_report", "validation_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; } td, th { border: 1px solid #ddd; padding: 3px 6px; }
th { background: #f3f3f3; } td { text-align: right; } .note { color: #555; font-size: 0.9em; }
.rec { font-size: 1.1em; padding: 0.6em; background: #eef6ee; border-left: 4px solid #4a4; }
pre { background: #f7f7f7; padding: 0.6em; font-size: 0.8em; overflow-x: auto; }
"""


def _plot(draw: Any) -> str:
    """``draw(ax)`` on a stand-alone figure (no pyplot: the user's backend is left alone), as an
    inline PNG ``<img>``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.8))
    draw(fig.subplots())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return '<img alt="plot" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode("ascii") + '">'


def _table(df: Any) -> str:
    return df.to_html(index=False, na_rep="–", float_format=lambda v: f"{v:.3f}", border=0)


def _page(title: str, sections: list[tuple[str, str]]) -> str:
    body = "".join(f"<h2>{html.escape(h)}</h2>\n{content}\n" for h, content in sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n{body}</body></html>\n")


def _settings(settings: dict[str, Any]) -> str:
    return "<pre>" + html.escape(json.dumps(settings, indent=2, default=str)) + "</pre>"


def _data_summary(bundle: Any) -> str:
    if bundle is None:
        return '<p class="note">(no bundle given)</p>'
    head = (f"<p>bundle <b>{html.escape(str(bundle.name))}</b>: {len(bundle)} modalities, {bundle.n_classes} classes</p>")
    return head + _table(bundle.summary().drop(columns="description"))


def ranking_report(ranking: Any, bundle: Any = None) -> str:
    """The HTML page of a :class:`~cchkit.ranking.Ranking` (and the bundle it was made from)."""
    t = ranking.table
    cols = [c for c in ("student", "teacher", "estimator", "i_teacher_student", "i_student_label", "cch_score", "cch_low",
                        "cch_high", "decision", "rank", "teacher_accuracy_on_h", "student_accuracy_on_h", "i_teacher_label",
                        "label_gain", "mfh_score") if c in t.columns]
    remarks = [f"{r['student']} &lt;- {r['teacher']} ({r['estimator']}): {html.escape(str(r[c]))}"
               for r in t.to_dict(orient="records") for c in ("label_check", "note", "error")
               if isinstance(r.get(c), str) and r[c] not in ("", "ok")]
    recs = ranking.recommendations
    rec_text = (", ".join(f"{s}: {v or 'none'}" for s, v in recs.items()) if len(recs) > 1
                else (ranking.recommended or "none predicted to help"))
    sections = [
        ("Recommendation", f'<p class="rec">recommended teacher: <b>{html.escape(str(rec_text))}</b> (by '
                           f'{html.escape(str(ranking.settings.get("criterion", "cch_score")))})</p>'
                           '<p class="note">CCH score = I(H_T; H_S) − I(H_S; Y) in nats; intervals 95%. '
                           "Check the advice with <code>cchkit validate</code>.</p>"),
        ("Scores with intervals", _plot(lambda ax: ranking.plot(ax=ax))),
        ("Table", '<div style="overflow-x:auto">' + _table(t[cols]) + "</div>"),
        ("Checks and notes", "<ul>" + "".join(f"<li>{m}</li>" for m in remarks) + "</ul>" if remarks
         else '<p class="note">every label term is consistent with its variational lower bound.</p>'),
        ("Settings", _settings(ranking.settings)),
        ("Data", _data_summary(bundle)),
    ]
    return _page(f"cchkit ranking: {ranking.settings.get('data', '')}", sections)


def validation_report(report: Any, bundle: Any = None) -> str:
    """The HTML page of a :class:`~cchkit.validation.ValidationReport`."""
    s = report.summary
    t = report.table
    cols = [c for c in ("teacher", "method", "acc_none", "acc_probe", "baseline", "acc", "gain", "gain_low",
                        "gain_high", "significant",
                        "cch_score", "decision", "teacher_accuracy_on_h", "error") if c in t.columns]
    crit = [{"criterion": "cch_score", **{k: s.get(k) for k in ("spearman", "sign_agree", "n_significant", "top_is_best")}}]
    crit += [{"criterion": name, **{k: c.get(k) for k in ("spearman", "sign_agree", "n_significant", "top_is_best")}}
             for name, c in s.get("baselines", {}).items()]
    import pandas as pd

    sections = [
        ("Verdict", f'<p class="rec">{html.escape(str(s.get("verdict", {}).get("text", "-")))}</p>'),
        ("Power", f'<p class="rec">{html.escape(str(s.get("power", {}).get("statement", "-")))}</p>'),
        ("Criterion against measured gain", _plot(lambda ax: report.plot(ax=ax))),
        ("Gains", _table(t[cols])),
        ("Does each criterion predict the gain?", _table(pd.DataFrame(crit))),
        ("Settings", _settings({k: v for k, v in s.items() if k not in ("baselines", "power")})),
        ("Data", _data_summary(bundle)),
    ]
    return _page(f"cchkit validation: student {s.get('student', '')}", sections)
