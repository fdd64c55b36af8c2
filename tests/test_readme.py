"""The README's "Your own data" walk-through runs as written, and prints what the README says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_your_own_data_block_runs_and_prints_what_it_quotes():
    section = _section("Your own data")
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = out.getvalue().splitlines()
    quoted_repr = re.search(r"print\(bundle\)\s+# (.*)", code).group(1)
    assert printed[0] == quoted_repr
    quoted_start = re.search(r'print\(advice.text\)\s+# "(.*?), \.\.\."', code).group(1)
    assert printed[1].startswith(quoted_start), printed[1]


def test_the_intro_names_the_deciding_criterion_and_its_record_as_shipped():
    from cchkit.criteria.track_record import load_track_record

    record = load_track_record()
    intro = README.read_text(encoding="utf-8").split("## Two commands")[0]
    said = re.search(r"What decides the advice today:\*\* `(\w+)` \(helps above ([\d.]+) nats\), right in sign "
                     r"on (\d+) of\s+(\d+) significant", intro)
    assert said, "the intro must say what decides the advice"
    name, threshold, right, n_sig = said.groups()
    assert name == record.default
    assert float(threshold) == round(record.bands[name][1], 3)
    held = record.held_out[name]
    assert (int(right), int(n_sig)) == (held["held_out_sign_right"], held["held_out_significant"])


def test_every_relative_link_of_the_docs_resolves():
    """The README, docs/*.md and benchmarks/README.md link to files that exist (the README moves
    its method and its figures out: the links must follow)."""
    root = README.parent
    pages = [README, *sorted((root / "docs").glob("*.md")), root / "benchmarks" / "README.md"]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(root)} -> {target}")
    assert not broken, broken


def test_the_quoted_advise_answer_matches_a_run():
    """The README's quote of `cchkit advise ... --budget 0.001`: the same words, every number
    within 0.01 (another machine's float rounding moves the last digits, not the answer's shape)."""
    from typer.testing import CliRunner

    from cchkit.cli import app

    text = README.read_text(encoding="utf-8")
    block = text[text.index("--candidates image,text --budget 0.001` answers"):].split("\n\n")[1]
    quote = " ".join(line.removeprefix(">").strip() for line in block.splitlines())
    res = CliRunner().invoke(app, ["advise", "--student", "audio", "--candidates", "image,text", "--budget", "0.001",
                                   "--quiet"])
    assert res.exit_code == 0, res.output
    answer = res.output.splitlines()[0].removeprefix("advice: ")
    number = r"[+-]?\d+\.\d+"
    assert re.sub(number, "#", answer).startswith(re.sub(number, "#", quote)), (answer, quote)
    quoted, got = re.findall(number, quote), re.findall(number, answer)[: len(re.findall(number, quote))]
    assert len(quoted) == 3 and all(abs(float(a) - float(b)) <= 0.01 for a, b in zip(quoted, got)), (quoted, got)
