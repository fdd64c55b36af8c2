#!/usr/bin/env python
"""Build the ``letters-sgp`` bundle: the 26 letters of the Latin alphabet heard, seen and
transcribed, three row-paired modalities ``speech``, ``glyph`` and ``phonemes``.

One-off generation script (cchkit never runs it). Needs the Debian packages ``espeak-ng``,
``fonts-dejavu-core``, ``fonts-liberation`` and ``fonts-urw-base35``, and numpy, scipy,
scikit-learn, Pillow. Run from the repository root::

    python data/scripts/make_letters_sgp.py --seed 0

For each of the n = 1,560 rows (60 per letter, rows in seeded random order):

* speech: espeak-ng says the letter's name ("bee", "double-u") with a random speaker (the
  digits-avt speakers: 7 English accents x 17 variants, rate, pitch) over a quieter background
  talker saying another letter, with padding, white noise and gain; 56 MFCC/pitch statistics.
  Its confusions follow sound: the "E-set" b c d e g p t v z rhymes, m/n, a/j/k.
* glyph: the letter drawn in a random font (70 faces of DejaVu, Liberation and URW base35), random
  case, size, rotation and offset, blurred and noised, averaged to 12x12 grey pixels. Its
  confusions follow shape: o/q/c, i/l/j, u/v, and lower vs upper case.
* phonemes: espeak-ng's own phoneme transcription of the letter name in the row's accent
  (``espeak-ng -x``), with typos, embedded by character n-gram TF-IDF + SVD (32 dims). It shares
  the accent with the speech beyond the label, and its class structure (similar sounds have
  similar transcriptions), but not the speech's noise.

The three views share the label; speech and phonemes share a confusion structure that the glyph
does not, which is what a class-structure criterion should see.
"""
from __future__ import annotations

import argparse
import os
import string
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _media  # noqa: E402
from _bundle import write_bundle  # noqa: E402

N_PER_CLASS = 60
LETTERS = string.ascii_lowercase
SIR_DB = (-3.0, 6.0)
SNR_DB = (0.0, 15.0)
TYPO_RATE = 0.45
PHONEME_ALPHABET = "abdefghijklmnoprstuvwzIEVU@3:'_,;!"
GLYPH = dict(canvas=(36, 36), out_shape=(12, 12), size=(24, 30), angle=8.0, offset=1, blur=(0.5, 1.6),
             noise=0.25)


def phonemes(letter: str, voice: str) -> str:
    out = subprocess.run(["espeak-ng", "-q", "-x", "-v", voice, letter], capture_output=True, text=True,
                         check=True).stdout
    return out.strip()


def rows_of(rng: np.random.Generator, font_list: list[str]) -> tuple[np.ndarray, list[dict]]:
    label = rng.permutation(np.repeat(np.arange(26, dtype=np.int64), N_PER_CLASS))
    rows = []
    for i, c in enumerate(label):
        others = [k for k in range(26) if k != c]
        rows.append(dict(row=i, letter=LETTERS[c], speaker=_media.speaker(rng),
                         bg_letter=LETTERS[others[int(rng.integers(25))]], bg_speaker=_media.speaker(rng),
                         nuisance=_media.nuisance(rng, SIR_DB, SNR_DB),
                         font=font_list[int(rng.integers(len(font_list)))], upper=bool(rng.random() < 0.5),
                         size=int(rng.integers(GLYPH["size"][0], GLYPH["size"][1] + 1)),
                         angle=float(rng.uniform(-GLYPH["angle"], GLYPH["angle"])),
                         offset=(int(rng.integers(-GLYPH["offset"], GLYPH["offset"] + 1)),
                                 int(rng.integers(-GLYPH["offset"], GLYPH["offset"] + 1))),
                         blur=float(rng.uniform(*GLYPH["blur"]))))
    return label, rows


def glyphs(rows: list[dict], seed: int) -> np.ndarray:
    out = []
    for r, ss in zip(rows, np.random.SeedSequence([seed, 3]).spawn(len(rows))):
        ch = r["letter"].upper() if r["upper"] else r["letter"]
        out.append(_media.render_text(ch, r["font"], size=r["size"], canvas=GLYPH["canvas"], angle=r["angle"],
                                      offset=r["offset"], blur=r["blur"], noise=GLYPH["noise"],
                                      out_shape=GLYPH["out_shape"], rng=np.random.default_rng(ss)))
    return np.stack(out)


def speech(rows: list[dict], seed: int, workers: int) -> np.ndarray:
    seeds = np.random.SeedSequence([seed, 2]).spawn(len(rows))
    with tempfile.TemporaryDirectory() as tmp:
        avt_check = _media.avt.check_espeak
        avt_check(tmp)

        def one(i: int) -> np.ndarray:
            r = rows[i]
            return _media.degraded_speech_features(r["letter"].upper(), r["speaker"], r["bg_letter"].upper(),
                                                   r["bg_speaker"], r["nuisance"], seeds[i],
                                                   os.path.join(tmp, f"{i}.wav"))

        with ThreadPoolExecutor(max_workers=workers) as ex:
            return np.stack(list(ex.map(one, range(len(rows)))))


def transcriptions(rows: list[dict], seed: int) -> list[str]:
    table = {(c, v): phonemes(c.upper(), v) for c in LETTERS for v, _ in _media.avt.ACCENTS}
    rng = np.random.default_rng([seed, 4])
    return [_media.corrupt(table[(r["letter"], r["speaker"]["voice"])], TYPO_RATE, PHONEME_ALPHABET, rng)
            for r in rows]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join("cchkit", "datasets", "data", "letters-sgp"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    args = ap.parse_args(argv)
    font_list = _media.fonts()
    label, rows = rows_of(np.random.default_rng(args.seed), font_list)
    glyph, const = _media.drop_constant(glyphs(rows, args.seed))
    audio = speech(rows, args.seed, args.workers).astype(np.float32)
    texts = transcriptions(rows, args.seed)
    phon, kept = _media.tfidf_svd(texts, (1, 3), 32, args.seed)
    write_bundle(
        args.out, name="letters-sgp",
        description=("The 26 letters a-z, 60 samples each (1,560 rows), heard, seen and transcribed: speech = "
                     "MFCC statistics of the letter name spoken by espeak-ng with a random speaker over a "
                     "background talker and noise; glyph = the letter rendered in one of "
                     f"{len(font_list)} fonts, random case, size, rotation, blur and noise, 12x12 pixels; "
                     "phonemes = espeak-ng's phoneme transcription of the name in the speaker's accent, with "
                     "typos, embedded. Speech and phonemes confuse letters that sound alike (the E-set), the "
                     "glyph confuses letters that look alike."),
        source=("Generated by the script with eSpeak NG (Debian package espeak-ng) and fonts from the Debian "
                "packages fonts-dejavu-core, fonts-liberation and fonts-urw-base35, drawn by Pillow."),
        licence=("Program output released with cchkit under its licence; no espeak-ng code or data and no font "
                 "file is included (the fonts are under their own free licences)."),
        how_made=(f"python data/scripts/make_letters_sgp.py --seed {args.seed}. Speech nuisance: SIR "
                  f"{SIR_DB} dB, SNR {SNR_DB} dB, digits-avt padding and gain. Glyph settings {GLYPH}; constant "
                  f"pixels dropped: {const}. Phoneme typos at rate {TYPO_RATE} (substitution, deletion, "
                  f"insertion from {PHONEME_ALPHABET!r}); TF-IDF char 1-3-grams, TruncatedSVD 32 dims "
                  f"({kept:.1%} of variance)."),
        script="data/scripts/make_letters_sgp.py",
        modalities=[("speech", audio, "56 MFCC/pitch statistics of the spoken letter name (as digits-avt audio)"),
                    ("glyph", glyph, f"{glyph.shape[1]} grey pixels of the rendered letter (12x12, row-major)"),
                    ("phonemes", phon, "TF-IDF + SVD embedding (32 dims) of the noisy phoneme transcription")],
        label=label, label_names=list(LETTERS), label_description="the letter, a..z")


if __name__ == "__main__":
    main()
