#!/usr/bin/env python
"""Build the ``words-cat`` bundle: English nouns in eight semantic categories, heard, printed and
typed, three row-paired modalities ``speech``, ``print`` and ``typed``.

One-off generation script (cchkit never runs it). Needs the Debian packages ``espeak-ng``,
``fonts-dejavu-core``, ``fonts-liberation`` and ``fonts-urw-base35``, and numpy, scipy,
scikit-learn, Pillow. Run from the repository root::

    python data/scripts/make_words_cat.py --seed 0

The label is the *category* (animal, fruit, colour, tool, vehicle, body part, instrument,
clothing), not the word: 16 words per category, 200 rows per category (1,600 rows), the word
drawn uniformly within its category. No view shows the category itself; each must recognise the
word and the model must learn which words belong together, so the class structure is semantic
and unlike anything in the surface form (unlike digits-avt or mfeat, where a class is one shape).

* speech: the word spoken by espeak-ng with a random speaker over a background talker saying a
  word of another category, with noise (the digits-avt recipe): 56 MFCC/pitch statistics.
* print: the word rendered in a random font (70 faces), size, rotation and offset, blurred and
  noised, averaged to 8x32 grey pixels.
* typed: the word with typos, embedded by character 1-3-gram TF-IDF + SVD (48 dims).
"""
from __future__ import annotations

import argparse
import os
import string
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _media  # noqa: E402
from _bundle import write_bundle  # noqa: E402

CATEGORIES = {
    "animal": "horse tiger rabbit eagle whale snake mouse camel zebra otter goose shark lizard monkey sheep wolf",
    "fruit": "apple banana cherry grape lemon mango melon peach pear plum orange kiwi papaya lime apricot fig",
    "colour": "red green blue yellow purple brown black white pink grey violet crimson amber indigo beige teal",
    "tool": "hammer saw wrench drill chisel pliers shovel rake axe file ladder spanner trowel clamp level mallet",
    "vehicle": "car truck bus train bicycle tram ship boat plane taxi van tractor scooter lorry wagon canoe",
    "body": "hand foot knee elbow shoulder finger ankle wrist neck chin nose ear cheek thumb hip lip",
    "instrument": "piano violin guitar drum flute trumpet harp cello oboe banjo tuba organ clarinet bugle lute sitar",
    "clothing": "shirt jacket scarf glove sock boot coat dress skirt hat belt vest cap sweater blouse sandal",
}
N_PER_CLASS = 200
SIR_DB = (0.0, 8.0)
SNR_DB = (5.0, 20.0)
TYPO_RATE = 0.3
PRINT = dict(canvas=(128, 32), out_shape=(8, 32), size=(18, 26), angle=3.0, offset=2, blur=(0.5, 1.5), noise=0.25)


def rows_of(rng: np.random.Generator, font_list: list[str]) -> tuple[np.ndarray, list[dict]]:
    words = [v.split() for v in CATEGORIES.values()]
    assert all(len(w) == 16 for w in words) and len({x for w in words for x in w}) == 128
    label = rng.permutation(np.repeat(np.arange(len(words), dtype=np.int64), N_PER_CLASS))
    rows = []
    for i, c in enumerate(label):
        other = [k for k in range(len(words)) if k != c][int(rng.integers(len(words) - 1))]
        rows.append(dict(row=i, word=words[c][int(rng.integers(16))], speaker=_media.speaker(rng),
                         bg_word=words[other][int(rng.integers(16))], bg_speaker=_media.speaker(rng),
                         nuisance=_media.nuisance(rng, SIR_DB, SNR_DB),
                         font=font_list[int(rng.integers(len(font_list)))],
                         size=int(rng.integers(PRINT["size"][0], PRINT["size"][1] + 1)),
                         angle=float(rng.uniform(-PRINT["angle"], PRINT["angle"])),
                         offset=(int(rng.integers(-PRINT["offset"], PRINT["offset"] + 1)),
                                 int(rng.integers(-PRINT["offset"], PRINT["offset"] + 1))),
                         blur=float(rng.uniform(*PRINT["blur"]))))
    return label, rows


def printed(rows: list[dict], seed: int) -> np.ndarray:
    out = []
    for r, ss in zip(rows, np.random.SeedSequence([seed, 3]).spawn(len(rows))):
        out.append(_media.render_text(r["word"], r["font"], size=r["size"], canvas=PRINT["canvas"],
                                      angle=r["angle"], offset=r["offset"], blur=r["blur"], noise=PRINT["noise"],
                                      out_shape=PRINT["out_shape"], rng=np.random.default_rng(ss)))
    return np.stack(out)


def speech(rows: list[dict], seed: int, workers: int) -> np.ndarray:
    seeds = np.random.SeedSequence([seed, 2]).spawn(len(rows))
    with tempfile.TemporaryDirectory() as tmp:
        _media.avt.check_espeak(tmp)

        def one(i: int) -> np.ndarray:
            r = rows[i]
            return _media.degraded_speech_features(r["word"], r["speaker"], r["bg_word"], r["bg_speaker"],
                                                   r["nuisance"], seeds[i], os.path.join(tmp, f"{i}.wav"))

        with ThreadPoolExecutor(max_workers=workers) as ex:
            return np.stack(list(ex.map(one, range(len(rows)))))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join("cchkit", "datasets", "data", "words-cat"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    args = ap.parse_args(argv)
    font_list = _media.fonts()
    label, rows = rows_of(np.random.default_rng(args.seed), font_list)
    prn, const = _media.drop_constant(printed(rows, args.seed))
    audio = speech(rows, args.seed, args.workers).astype(np.float32)
    rng = np.random.default_rng([args.seed, 4])
    typed, kept = _media.tfidf_svd([_media.corrupt(r["word"], TYPO_RATE, string.ascii_lowercase, rng)
                                    for r in rows], (1, 3), 48, args.seed)
    write_bundle(
        args.out, name="words-cat",
        description=("English nouns in 8 semantic categories (16 words each; 200 rows per category, 1,600 rows), "
                     "heard, printed and typed; the label is the category, not the word. speech = MFCC "
                     "statistics of the word spoken by espeak-ng with a random speaker over a background talker "
                     "and noise; print = the word rendered in one of "
                     f"{len(font_list)} fonts, 8x32 pixels; typed = the word with typos, embedded. No view "
                     "shows the category: each must recognise the word."),
        source=("Generated by the script with eSpeak NG (Debian package espeak-ng) and fonts from the Debian "
                "packages fonts-dejavu-core, fonts-liberation and fonts-urw-base35, drawn by Pillow; the word "
                "lists are written in the script."),
        licence=("Program output released with cchkit under its licence; no espeak-ng code or data and no font "
                 "file is included."),
        how_made=(f"python data/scripts/make_words_cat.py --seed {args.seed}. Words: {CATEGORIES}. Speech "
                  f"nuisance: SIR {SIR_DB} dB, SNR {SNR_DB} dB, digits-avt padding and gain; background word "
                  f"from another category. Print settings {PRINT}; constant pixels dropped: {const}. Typos at "
                  f"rate {TYPO_RATE} (substitution, deletion, insertion of a-z); TF-IDF char 1-3-grams, "
                  f"TruncatedSVD 48 dims ({kept:.1%} of variance)."),
        script="data/scripts/make_words_cat.py",
        modalities=[("speech", audio, "56 MFCC/pitch statistics of the spoken word (as digits-avt audio)"),
                    ("print", prn, f"{prn.shape[1]} grey pixels of the rendered word (8x32, row-major)"),
                    ("typed", typed, "TF-IDF + SVD embedding (48 dims) of the word typed with typos")],
        label=label, label_names=list(CATEGORIES),
        label_description="the semantic category of the word")


if __name__ == "__main__":
    main()
