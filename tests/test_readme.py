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


def test_the_intro_names_the_deciding_criteria_and_their_records_as_shipped():
    from cchkit.criteria.regimes import load_regime_records

    records = load_regime_records()
    intro = " ".join(README.read_text(encoding="utf-8").split("## Two commands")[0].split())
    every = re.search(r"With every label that is `(\w+)`, whose band, fitted with each bundle held out, said \"helps\" "
                      r"on (\d+) of (\d+) gains within noise \(no teacher helped any of the (\d+) pairs", intro)
    assert every, "the intro must say what decides the advice with every label"
    name, helps, null, pairs = every.groups()
    entry = records["all-same"]
    crit = entry["criteria"][name]
    assert name == entry["default"] and entry["helped"] == 0 and int(pairs) == entry["pairs"]
    assert (int(helps), int(null)) == (crit["held_out_null"] - crit["held_out_not_helps_null"], crit["held_out_null"])
    few = re.search(r"with 5 labels per class and teachers with the same labels it is `(\w+)`, and the same choice "
                    r"made with each bundle held out ranked the best teacher first for (\d+) of (\d+) students", intro)
    assert few, "the intro must say what decides the advice with 5 labels per class"
    proc = records["L5-same"]["default_procedure_held_out"]
    assert few.group(1) == records["L5-same"]["default"]
    assert (int(few.group(2)), int(few.group(3))) == (proc["top1_right"], proc["n_students"])


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
    assert len(quoted) == 4 and all(abs(float(a) - float(b)) <= 0.01 for a, b in zip(quoted, got)), (quoted, got)
