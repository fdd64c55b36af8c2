"""`--report report.html`: one self-contained page (tables, plots, settings, data), parsed here;
a screenshot in headless Chromium (installed by the Makefile) shows that it renders."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

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
    v = runner.invoke(app, ["validate", "--student", "audio", "--candidates", "image,text", "--seeds", "3", "--epochs", "2",
                            "-q", "--report", str(d / "validate.html")])
    assert v.exit_code == 0, v.output
    return d


def test_rank_report_is_one_self_contained_page(reports):
    page = _parse(reports / "rank.html")
    text = " ".join(page.text)
    assert page.tags.count("table") >= 2 and len(page.images) == 1 and page.images[0].startswith("data:image/png;base64,")
    assert len(page.images[0]) > 10_000  # a drawn plot, not an empty canvas
    assert not page.external  # nothing fetched from elsewhere
    for heading in ("Recommendation", "Scores with intervals", "Table", "Settings", "Data"):
        assert heading in text
    assert "recommended teacher" in text and "digits-avt" in text and "audio" in text


def test_validate_report_has_gains_power_and_the_criterion_plot(reports):
    page = _parse(reports / "validate.html")
    text = " ".join(page.text)
    assert len(page.images) == 1 and not page.external
    assert "Power" in text and "seeds" in text and "class-align" in text and "cch_score" in text


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
