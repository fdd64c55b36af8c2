"""`--report report.html`: one self-contained page (tables, plots, settings, data), parsed here;
a screenshot in headless Chromium (installed by the Makefile) shows that it renders."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cchkit
from cchkit.cli import app

runner = CliRunner()


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        self.tags.append(tag)
        for key, value in attrs:
            if key in ("src", "href") and value and not value.startswith(("data:", "#")):
                self.external.append(value)
            if tag == "img" and key == "src":
                self.images.append(value)

    def handle_data(self, data):  # noqa: ANN001
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    d = tmp_path_factory.mktemp("reports")
    r = runner.invoke(app, ["rank", "--student", "audio", "--candidates", "image,text", "-q", "--report", str(d / "rank.html")])
    assert r.exit_code == 0, r.output
    v = runner.invoke(app, ["validate", "--baseline", "no-kd", "--student", "audio", "--candidates", "image,text", "--seeds", "3", "--epochs", "2",
                            "-q", "--report", str(d / "validate.html")])
    assert v.exit_code == 0, v.output
    return d


def _verdict(path: Path) -> list[str]:
    """The lines of the page's first block (the verdict), which must come before any heading."""
    src = path.read_text(encoding="utf-8")
    head, _, rest = src.partition('<div class="verdict">')
    assert rest and "<h2>" not in head, "the verdict is not the first thing on the page"
    block = _parse_text(rest.partition("</div>")[0])
    return [line for line in block if line.strip()]


def _parse_text(fragment: str) -> list[str]:
    page = _Page()
    page.feed(fragment)
    return page.text


PROVENANCE = ("cchkit", "git_commit", "command", "date", "data", "data_sha256", "device", "threads", "python", "numpy",
              "scikit-learn", "torch", "wall_time_s")


def _provenance(path: Path) -> dict[str, str]:
    src = path.read_text(encoding="utf-8")
    block = src.partition('<table class="provenance">')[2].partition("</table>")[0]
    cells = [c for c in _parse_text(block) if c.strip()]
    return dict(zip(cells[::2], cells[1::2]))


def test_rank_report_opens_with_the_verdict_and_says_where_it_came_from(reports):
    import cchkit

    page = _parse(reports / "rank.html")
    text = " ".join(page.text)
    assert page.tags.count("table") >= 3 and len(page.images) == 1 and page.images[0].startswith("data:image/png;base64,")
    assert len(page.images[0]) > 10_000  # a drawn plot, not an empty canvas
    assert not page.external  # nothing fetched from elsewhere
    for heading in ("Scores with intervals", "Table", "Where these numbers came from", "Data"):
        assert heading in text
    verdict = _verdict(reports / "rank.html")
    assert verdict[0].startswith("advice for audio: ") and verdict[1].startswith("decided by ")
    assert verdict[2].startswith("track record of ")
    prov = _provenance(reports / "rank.html")
    assert set(PROVENANCE) <= set(prov)
    assert prov["data_sha256"] == cchkit.load_bundle("digits-avt").digest() and prov["data"] == "digits-avt"
    assert "rank" in prov["command"] and prov["cchkit"] == cchkit.__version__
    assert "teacher acc. on H" in text and "all 47 columns" in text or "columns (also in the JSON output)" in text


def test_validate_report_opens_with_the_verdict_and_gives_its_settings(reports):
    page = _parse(reports / "validate.html")
    text = " ".join(page.text)
    assert len(page.images) == 1 and not page.external
    verdict = _verdict(reports / "validate.html")
    assert verdict[0].startswith("advice (") and "Advice " in verdict[0] and "seeds" in verdict[1]
    prov = _provenance(reports / "validate.html")
    assert set(PROVENANCE) | {"seeds", "epochs", "methods", "train_size"} <= set(prov)
    assert prov["epochs"] == "2" and "class-align" in prov["methods"]
    # values as a reader writes them, not Python's reprs
    assert not [v for v in prov.values() if v in ("None", "True", "False") or v[0] in "[{("], prov
    assert "gain [95%]" in text and "linear probe" in text and "digits-avt" in " ".join(page.text[:5])


def test_names_are_escaped_in_the_page(tmp_path):
    import numpy as np

    import cchkit
    from cchkit.bundle import ModalityBundle
    from cchkit.report import ranking_report

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 40)
    b = ModalityBundle.from_arrays({"a": rng.standard_normal((120, 3)) + y[:, None], "b": rng.standard_normal((120, 2))},
                                   labels=np.array(["<b>x</b>", "y&z", "w"])[y], name="<script>alert(1)</script>")
    page = ranking_report(cchkit.rank_teachers(b, "a", n_bootstrap=20), b)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_may_not_overwrite_the_input(tmp_path):
    import numpy as np

    from cchkit import ModalityBundle

    rng = np.random.default_rng(0)
    b = ModalityBundle.from_arrays({"a": rng.standard_normal((60, 3)), "b": rng.standard_normal((60, 2))},
                                   labels=np.repeat([0, 1, 2], 20)).save(tmp_path / "b.npz")
    res = runner.invoke(app, ["rank", "-d", str(b), "-s", "a", "--report", str(b)])
    assert res.exit_code == 2 and "is the input" in res.output


@pytest.mark.slow
def test_report_renders_in_headless_chromium(reports, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
    shot = tmp_path / "rank.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
                    "--window-size=1200,1600", (reports / "rank.html").as_uri()], capture_output=True, timeout=180, check=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a real rendering, not a blank page


def test_provenance_names_the_commit_the_device_it_ran_on_and_the_threads():
    import subprocess

    import sklearn

    from cchkit.report import git_commit, provenance

    prov = provenance(cchkit.load_bundle("wdbc"), settings={"device": "auto", "budget": 12.0})
    root = Path(cchkit.__file__).resolve().parents[1]
    if (root / ".git").exists():
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        assert git_commit().split("+")[0] == head and prov["git_commit"] == git_commit()
    else:
        assert prov["git_commit"] == "(not a git checkout)"
    import torch

    cuda = torch.cuda.is_available()
    assert (prov["device"].startswith("auto -> cuda for neural") if cuda else prov["device"] == "auto -> cpu")
    assert prov["budget"] == 12.0
    assert prov["scikit-learn"] == sklearn.__version__ and int(prov["threads"]) >= 1


def test_the_advise_page_records_the_callers_budget_and_the_whole_time(tmp_path):
    from cchkit.report import few_label_report

    a = cchkit.advise("wdbc", "mean", ["se"], seeds=3, budget=7.5, rank_params={"n_bootstrap": 20})
    path = tmp_path / "advice.html"
    path.write_text(few_label_report(a.validation, cchkit.load_bundle("wdbc"), advice=a), encoding="utf-8")
    prov = _provenance(path)
    assert prov["budget"] == "7.5" and float(prov["wall_time_s"]) == round(a.seconds, 2)
    assert _verdict(path)[0] == f"Advice: {a.text}" and len(_verdict(path)) == 2  # the power statement once


def test_the_few_label_advise_page_says_the_prediction_once_and_yes_or_no(tmp_path):
    """With few labels advise's answer ends with the criterion's prediction: the page printed it
    a second time under the answer; its table wrote the booleans as Python's True / False."""
    from cchkit.report import few_label_report

    a = cchkit.advise("wdbc", "mean", ["se"], labels_per_class=5, seeds=3, budget=1e-3, progress=False)
    prediction = a.validation.summary["prediction"]["text"]
    assert prediction and prediction in a.text
    path = tmp_path / "advice.html"
    path.write_text(few_label_report(a.validation, cchkit.load_bundle("wdbc"), advice=a), encoding="utf-8")
    assert _verdict(path) == [f"Advice: {a.text}"]
    gains = path.read_text(encoding="utf-8").partition("<h2>Gains</h2>")[2].partition("<details>")[0]
    cells = _parse_text(gains)
    assert ("yes" in cells or "no" in cells) and "True" not in cells and "False" not in cells, cells
