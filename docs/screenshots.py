"""Re-shoot the report screenshots of the README from the current code (``make docs``).

Runs ``cchkit rank``, ``cchkit advise`` (full labels) and ``cchkit validate --labels-per-class 5``
on the bundled demo with ``--report``, then renders each page in headless Chromium at 1400 and
420 px wide into ``docs/screenshots/<page>-<width>.png``.

    python docs/screenshots.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots"
WIDTHS = (1400, 420)
PAGES = {
    "rank": ["rank", "--student", "audio", "--candidates", "image,text"],
    "advise": ["advise", "--student", "audio", "--candidates", "image,text"],
    "few-labels": ["validate", "--student", "audio", "--candidates", "image,text", "--labels-per-class", "5",
                   "--seeds", "3"],
}


def main() -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium is missing: `make test` installs it (apt-get install chromium)")
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for page, args in PAGES.items():
            html = Path(tmp) / f"{page}.html"
            subprocess.run([sys.executable, "-m", "cchkit", *args, "--quiet", "--report", str(html)], check=True,
                           stdout=subprocess.DEVNULL)
            for width in WIDTHS:
                shot = OUT / f"{page}-{width}.png"
                subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                f"--screenshot={shot}", f"--window-size={width},2400", html.as_uri()],
                               capture_output=True, timeout=180, check=True)
                print(f"wrote {shot.relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    main()
