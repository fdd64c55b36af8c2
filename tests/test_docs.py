"""The API reference renders: Sphinx with numpydoc builds docs/api with warnings as errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api"


@pytest.mark.slow
def test_api_reference_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    src = tmp_path / "src"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("generated", "_build"))
    out = tmp_path / "html"
    res = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src), str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    page = (out / "generated" / "cchkit.estimators.knn.KSGEstimator.html").read_text()
    assert "Kraskov" in page and "Parameters" in page
    assert (out / "generated" / "cchkit.rank_teachers.html").is_file()


def test_every_registered_method_objective_criterion_and_estimator_has_a_docstring():
    """A registered class documents its formula (its first paragraph shows in `cchkit methods`);
    a class attribute written above the docstring silently turns it into a plain string."""
    from cchkit.criteria import get_criterion, list_criteria
    from cchkit.distill.methods import get_method, list_methods
    from cchkit.estimators import estimator_class, list_estimators
    from cchkit.fewlabels.objectives import get_objective, list_objectives

    classes = ([type(get_method(n)) for n in list_methods()] + [type(get_objective(n)) for n in list_objectives()]
               + [type(get_criterion(n)) for n in list_criteria()] + [estimator_class(n) for n in list_estimators()])
    bare = [c.__name__ for c in classes if not (c.__dict__.get("__doc__") or "").strip()]
    assert not bare, bare


def test_cchkit_methods_lists_both_registries():
    from typer.testing import CliRunner

    from cchkit.cli import app
    from cchkit.distill.methods import list_methods
    from cchkit.fewlabels.objectives import teacher_objectives

    res = CliRunner().invoke(app, ["methods", "--format", "json"])
    assert res.exit_code == 0, res.output
    import json

    rows = json.loads(res.output)["rows"]
    assert [r["name"] for r in rows] == teacher_objectives(paired=True) + list_methods()
    assert [r["baseline"] for r in rows[:2]] == ["teacher-free"] * 2  # the default measurement's methods first
    assert {r["name"] for r in rows if r["by default"] != "no" and r["baseline"] == "no-kd"} == {"class-align", "logit-kd"}
    assert all(r["description"] for r in rows)
    # plain text for a terminal: no reST role, literal or LaTeX command
    assert not [r["description"] for r in rows if re.search(r":\w+:`|``|\\[a-zA-Z]", r["description"])]


def test_a_method_is_described_by_its_first_paragraph_in_plain_text():
    """The listing showed a docstring's first line, cut mid-sentence, with its reST markup."""
    from cchkit.cli.listing import doc_summary

    class Demo:
        r"""Cross-entropy only, :math:`\mathcal{L} = \mathrm{CE}(p_S, y)`, with ``lam`` from
        :class:`~cchkit.distill.DistillConfig` and a copy \theta' of the student.

        Details that do not belong in a listing."""

    assert doc_summary(Demo()) == ("Cross-entropy only, L = CE(p_S, y), with lam from DistillConfig and a copy theta' "
                                   "of the student.")
    assert doc_summary(Demo(), width=40) == "Cross-entropy only, L = CE(p_S, y)..."
