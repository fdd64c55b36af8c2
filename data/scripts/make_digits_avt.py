#!/usr/bin/env python
"""Build the ``digits-avt`` bundle: ten spoken/handwritten/described digits with
three row-paired modalities named ``audio``, ``image`` and ``text``.

One-off generation script (cchkit never runs it). Needs the Debian package
``espeak-ng`` (``apt-get install espeak-ng``) and numpy, scipy, scikit-learn.
Run from the repository root:

    python data/scripts/make_digits_avt.py --out cchkit/datasets/data/digits-avt --seed 0

For each of the n = 2,000 rows (200 per digit, rows in seeded random order):

* a *speaker* is drawn: an English espeak-ng accent voice, a voice variant
  (gender and style), a speaking rate (wpm) and a pitch;
* audio: espeak-ng speaks the digit word ("zero".."nine") with that speaker,
  a quieter background talker saying another digit, random silence padding,
  white noise and a random gain are added (all seeded), and the waveform is
  summarised by MFCC + pitch statistics computed here in numpy/scipy (56 dims);
* image: a real handwritten 8x8 digit of the same class from scikit-learn's
  bundled ``load_digits()`` (seeded draw within class), scaled to [0, 1];
* text: a caption naming the digit and how it was said (accent, gender/style,
  speed and pitch buckets) from several seeded templates, embedded with TF-IDF
  (character 2-4-grams + word unigrams) and TruncatedSVD to 64 dims.

The caption therefore shares the speaker with the audio beyond the label; the
image shares only the class.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy
import scipy.io.wavfile
from scipy.fft import dct

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _bundle import write_bundle  # noqa: E402

N_PER_CLASS = 200
WORDS = ["zero", "one", "two", "three", "four",
         "five", "six", "seven", "eight", "nine"]

# espeak-ng English voices (language names as listed by `espeak-ng --voices=en`)
# and the accent word used in captions. `en-gb` is deliberately not used: in
# espeak-ng 1.51 `-v en-gb+<variant>` silently ignores the variant, whereas
# `-v en+<variant>` (the same gmw/en voice) honours it. `en-us-nyc` is left out
# because it renders most digit words identically to `en-us`.
ACCENTS = [
    ("en", "British"),
    ("en-us", "American"),
    ("en-gb-scotland", "Scottish"),
    ("en-gb-x-gbclan", "Lancastrian"),
    ("en-gb-x-rp", "RP English"),
    ("en-gb-x-gbcwmd", "West Midlands"),
    ("en-029", "Caribbean"),
]
# espeak-ng voice variants: (variant, gender, style)
VARIANTS = (
    [(f"m{k}", "male", "plain") for k in range(1, 8)]
    + [(f"f{k}", "female", "plain") for k in range(1, 6)]
    + [("croak", "male", "croaky"),
       ("whisper", "male", "whispering"),
       ("whisperf", "female", "whispering"),
       ("grandpa", "male", "elderly"),
       ("grandma", "female", "elderly")]
)
SPEED_RANGE = (110, 220)   # words per minute, uniform integer
PITCH_RANGE = (20, 80)     # espeak-ng -p, uniform integer
# Acoustic nuisance, tuned so that the audio is clearly the weakest modality
# (5-fold logistic regression on the digit around 75%; clean espeak-ng speech
# is ~100% separable even at 0 dB white noise):
SIR_RANGE = (0.0, 10.0)    # dB, main talker over a background talker
SNR_RANGE = (5.0, 20.0)    # dB, main talker over white noise
PAD_MAX_S = 0.3            # random silence added before and after, each
GAIN_DB = 6.0              # overall gain uniform in [-GAIN_DB, GAIN_DB]


def speed_bucket(wpm: int) -> str:
    return "slow" if wpm < 147 else ("medium" if wpm <= 183 else "fast")


def pitch_bucket(p: int) -> str:
    return "low" if p < 40 else ("medium" if p <= 60 else "high")


# ----------------------------------------------------------------- captions
SPEED_ADV = {"slow": ["slowly", "at a slow pace", "slowly and deliberately"],
             "medium": ["at a normal pace", "at a moderate speed",
                        "at an even pace"],
             "fast": ["fast", "quickly", "at a brisk pace"]}
SPEED_ADJ = {"slow": "slow", "medium": "moderate", "fast": "fast"}
PITCH_ADJ = {"low": ["low", "deep"], "medium": ["medium", "mid"],
             "high": ["high", "high"]}
STYLE_ADJ = {"plain": "", "croaky": "croaky ", "whispering": "whispering ",
             "elderly": "elderly "}
PERSON = {"male": ["man", "male speaker"], "female": ["woman", "female speaker"]}

TEMPLATES = [
    "the digit {word}, spoken {sadv} in a {pitch} {style}{gender} {accent} voice",
    "{word}, said {sadv} by a {pitch}-pitched {style}{person} with a {accent} accent",
    "a {style}{gender} {accent} speaker says {word} {sadv} in a {pitch} voice",
    "spoken digit {word}: {accent} accent, {style}{gender} voice, {sadj} tempo, {pitch} pitch",
    "the number {word} read {sadv} with a {pitch} {style}{gender} voice and a {accent} accent",
    "recording of {word} ({digit}) by a {style}{person}, {accent} accent, {sadj} and {pitch}",
]


def make_caption(rng, digit, accent, gender, style, sb, pb):
    t = int(rng.integers(len(TEMPLATES)))
    s = TEMPLATES[t].format(
        word=WORDS[digit], digit=digit, accent=accent,
        gender=gender, person=PERSON[gender][int(rng.integers(2))],
        style=STYLE_ADJ[style],
        sadv=SPEED_ADV[sb][int(rng.integers(3))], sadj=SPEED_ADJ[sb],
        pitch=PITCH_ADJ[pb][int(rng.integers(2))])
    return t, s


# -------------------------------------------------------------------- MFCC
def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sr, n_fft, n_mels=40, fmin=20.0, fmax=None):
    fmax = sr / 2.0 if fmax is None else fmax
    mels = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    hz = mel_to_hz(mels)
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    fb = np.zeros((n_mels, freqs.size))
    for m in range(n_mels):
        lo, ce, hi = hz[m], hz[m + 1], hz[m + 2]
        up = (freqs - lo) / (ce - lo)
        down = (hi - freqs) / (hi - ce)
        fb[m] = np.maximum(0.0, np.minimum(up, down))
    return fb


def mfcc(x, sr, n_mels=40, n_ceps=13, frame_s=0.025, hop_s=0.010,
         preemph=0.97):
    x = np.asarray(x, dtype=np.float64)
    x = np.append(x[0], x[1:] - preemph * x[:-1])
    flen = int(round(frame_s * sr))
    hop = int(round(hop_s * sr))
    if x.size < flen:
        x = np.pad(x, (0, flen - x.size))
    n_frames = 1 + (x.size - flen) // hop
    idx = np.arange(flen)[None, :] + hop * np.arange(n_frames)[:, None]
    frames = x[idx] * np.hamming(flen)[None, :]
    n_fft = 1 << (flen - 1).bit_length()
    power = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)) ** 2 / n_fft
    fb = mel_filterbank(sr, n_fft, n_mels)
    logmel = np.log(power @ fb.T + 1e-10)
    return dct(logmel, type=2, axis=1, norm="ortho")[:, :n_ceps]


def deltas(c, width=2):
    t = c.shape[0]
    pad = np.pad(c, ((width, width), (0, 0)), mode="edge")
    num = sum(k * (pad[width + k:width + k + t] - pad[width - k:width - k + t])
              for k in range(1, width + 1))
    return num / (2.0 * sum(k * k for k in range(1, width + 1)))


def f0_features(x, sr, fmin=60.0, fmax=500.0, threshold=0.5):
    """Crude autocorrelation pitch tracker (40 ms Hann frames, 10 ms hop):
    returns [median log F0 (Hz) over voiced frames, fraction of voiced
    frames]; a frame is voiced when its normalised autocorrelation peak in
    the 60-500 Hz lag range exceeds 0.5. With no voiced frame (e.g. whispers)
    the log F0 is set to log(150 Hz)."""
    flen = int(round(0.04 * sr))
    hop = int(round(0.01 * sr))
    if x.size < flen:
        x = np.pad(x, (0, flen - x.size))
    n_frames = 1 + (x.size - flen) // hop
    idx = np.arange(flen)[None, :] + hop * np.arange(n_frames)[:, None]
    fr = x[idx]
    fr = (fr - fr.mean(1, keepdims=True)) * np.hanning(flen)[None, :]
    spec = np.abs(np.fft.rfft(fr, 2 * flen, axis=1)) ** 2
    ac = np.fft.irfft(spec, 2 * flen, axis=1)[:, :flen]
    ac = ac / (ac[:, :1] + 1e-12)
    lo, hi = int(sr / fmax), int(sr / fmin)
    seg = ac[:, lo:hi]
    voiced = seg.max(1) > threshold
    if not voiced.any():
        return np.array([np.log(150.0), 0.0])
    lag = seg.argmax(1)[voiced] + lo
    return np.array([np.median(np.log(sr / lag)), voiced.mean()])


def audio_features(x, sr):
    c = mfcc(x, sr)
    d = deltas(c)
    dur = x.size / sr
    rms = np.sqrt(np.mean(x ** 2))
    return np.concatenate([c.mean(0), c.std(0), d.mean(0), d.std(0),
                           [np.log(dur), np.log(rms)], f0_features(x, sr)])


AUDIO_FEATURE_NAMES = (
    [f"mfcc{k}_mean" for k in range(13)] + [f"mfcc{k}_std" for k in range(13)]
    + [f"dmfcc{k}_mean" for k in range(13)] + [f"dmfcc{k}_std" for k in range(13)]
    + ["log_duration_s", "log_rms", "log_f0_median", "voiced_fraction"])


# ---------------------------------------------------------------- espeak-ng
def espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"eSpeak NG text-to-speech:\s*(\S+)", out)
    return m.group(1) if m else out.strip()


def synth(word, voice, variant, speed, pitch, path):
    subprocess.run(["espeak-ng", "-v", f"{voice}+{variant}", "-s", str(speed),
                    "-p", str(pitch), "-w", path, word],
                   check=True, capture_output=True)
    sr, w = scipy.io.wavfile.read(path)
    if w.ndim != 1 or w.dtype != np.int16:
        raise RuntimeError(f"unexpected wav format {w.dtype} {w.shape}")
    return sr, w.astype(np.float64) / 32768.0


def check_espeak(tmp):
    """Fail loudly if a voice or variant is unknown (espeak-ng falls back
    silently) or a voice ignores its variants."""
    voices = subprocess.run(["espeak-ng", "--voices=en"], capture_output=True,
                            text=True, check=True).stdout
    langs = {ln.split()[1] for ln in voices.splitlines()[1:] if ln.strip()}
    for v, _ in ACCENTS:
        if v not in langs:
            raise SystemExit(f"espeak-ng has no English voice {v!r}")
    var_out = subprocess.run(["espeak-ng", "--voices=variant"],
                             capture_output=True, text=True, check=True).stdout
    files = {ln.split()[-1].split("/")[-1] for ln in var_out.splitlines()[1:]
             if "!v/" in ln}
    for var, _, _ in VARIANTS:
        if var not in files:
            raise SystemExit(f"espeak-ng has no voice variant {var!r}")
    p = os.path.join(tmp, "check.wav")
    for v, _ in ACCENTS:
        seen = set()
        for var in ("m1", "f2", "croak"):
            _, w = synth("seven", v, var, 160, 50, p)
            seen.add(w.tobytes())
        if len(seen) != 3:
            raise SystemExit(f"espeak-ng voice {v!r} ignores its variants")


# -------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join("cchkit", "datasets", "data", "digits-avt"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    args = ap.parse_args(argv)

    import sklearn
    from sklearn.datasets import load_digits
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from scipy.sparse import hstack

    seed = args.seed
    rng = np.random.default_rng(seed)
    n = 10 * N_PER_CLASS
    label = rng.permutation(np.repeat(np.arange(10, dtype=np.int64), N_PER_CLASS))

    # ---- speaker factors and captions (drawn in row order)
    rows = []
    for i in range(n):
        d = int(label[i])
        ai = int(rng.integers(len(ACCENTS)))
        vi = int(rng.integers(len(VARIANTS)))
        speed = int(rng.integers(SPEED_RANGE[0], SPEED_RANGE[1] + 1))
        pitch = int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1))
        voice, accent = ACCENTS[ai]
        variant, gender, style = VARIANTS[vi]
        sb, pb = speed_bucket(speed), pitch_bucket(pitch)
        t, cap = make_caption(rng, d, accent, gender, style, sb, pb)
        rows.append(dict(row=i, digit=d, word=WORDS[d], voice=voice,
                         accent=accent, variant=variant, gender=gender,
                         style=style, speed_wpm=speed, speed_bucket=sb,
                         pitch=pitch, pitch_bucket=pb, template=t,
                         caption=cap))

    # ---- images: real handwritten digits of the same class
    digits = load_digits()
    img_x = digits.data.astype(np.float64) / 16.0
    img_y = digits.target
    img_idx = np.empty(n, dtype=np.int64)
    for c in range(10):
        pool = np.flatnonzero(img_y == c)
        rows_c = np.flatnonzero(label == c)
        pick = rng.permutation(pool)[:rows_c.size]
        if pick.size < rows_c.size:
            extra = rng.choice(pool, rows_c.size - pick.size, replace=True)
            pick = np.concatenate([pick, extra])
        img_idx[rows_c] = pick
    image = img_x[img_idx].astype(np.float32)
    # pixels that are 0 in every image (corners/edge columns of the 8x8 grid)
    img_const = [int(j) for j in np.flatnonzero(np.all(image == image[:1], 0))]
    img_keep = [j for j in range(image.shape[1]) if j not in img_const]
    image = np.ascontiguousarray(image[:, img_keep])
    for r in rows:
        r["image_index"] = int(img_idx[r["row"]])

    # ---- acoustic nuisance: background talker, padding, gain, noise
    # (separate stream so that it does not disturb the draws above)
    nrng = np.random.default_rng([seed, 1])
    for r in rows:
        others = [d for d in range(10) if d != r["digit"]]
        bd = others[int(nrng.integers(9))]
        bvoice = ACCENTS[int(nrng.integers(len(ACCENTS)))][0]
        bvar = VARIANTS[int(nrng.integers(len(VARIANTS)))][0]
        r.update(
            bg_digit=bd, bg_voice=bvoice, bg_variant=bvar,
            bg_speed_wpm=int(nrng.integers(SPEED_RANGE[0], SPEED_RANGE[1] + 1)),
            bg_pitch=int(nrng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
            bg_offset_frac=float(nrng.random()),
            sir_db=round(float(nrng.uniform(*SIR_RANGE)), 2),
            snr_db=round(float(nrng.uniform(*SNR_RANGE)), 2),
            pad_before_s=round(float(nrng.uniform(0, PAD_MAX_S)), 3),
            pad_after_s=round(float(nrng.uniform(0, PAD_MAX_S)), 3),
            gain_db=round(float(nrng.uniform(-GAIN_DB, GAIN_DB)), 2))
    noise_seeds = np.random.SeedSequence([seed, 2]).spawn(n)

    # ---- audio
    ver = espeak_version()
    with tempfile.TemporaryDirectory() as tmp:
        check_espeak(tmp)

        def one(i):
            r = rows[i]
            path = os.path.join(tmp, f"{i}.wav")
            sr, w = synth(r["word"], r["voice"], r["variant"], r["speed_wpm"],
                          r["pitch"], path)
            sr2, u = synth(WORDS[r["bg_digit"]], r["bg_voice"],
                           r["bg_variant"], r["bg_speed_wpm"], r["bg_pitch"],
                           path)
            os.remove(path)
            assert sr2 == sr
            p_sig = np.mean(w ** 2)
            # background talker: starts between half its length before and
            # half the main clip's length after the main onset, clipped to
            # the main clip
            off = int(round(-u.size / 2 + r["bg_offset_frac"]
                            * (w.size / 2 + u.size / 2)))
            bg = np.zeros_like(w)
            s0, u0 = max(off, 0), max(-off, 0)
            m = max(0, min(w.size - s0, u.size - u0))
            bg[s0:s0 + m] = u[u0:u0 + m]
            x = w + bg * np.sqrt(
                p_sig / np.mean(u ** 2) / 10 ** (r["sir_db"] / 10))
            x = np.concatenate([np.zeros(int(round(r["pad_before_s"] * sr))), x,
                                np.zeros(int(round(r["pad_after_s"] * sr)))])
            wn = np.random.default_rng(noise_seeds[i]).standard_normal(x.size)
            x = x + wn * np.sqrt(p_sig / 10 ** (r["snr_db"] / 10))
            x = x * 10 ** (r["gain_db"] / 20)
            return sr, audio_features(x, sr)

        with ThreadPoolExecutor(max_workers=args.workers) as ex:
            res = list(ex.map(one, range(n)))
    srs = {sr for sr, _ in res}
    audio = np.stack([f for _, f in res]).astype(np.float32)

    # ---- text
    captions = [r["caption"] for r in rows]
    vec_c = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
                            sublinear_tf=True)
    vec_w = TfidfVectorizer(analyzer="word", ngram_range=(1, 1),
                            token_pattern=r"(?u)\b\w+\b")
    tf = hstack([vec_c.fit_transform(captions),
                 vec_w.fit_transform(captions)]).tocsr()
    svd = TruncatedSVD(n_components=64, algorithm="randomized", n_iter=10,
                       random_state=seed)
    text = svd.fit_transform(tf).astype(np.float32)
    text_var = float(svd.explained_variance_ratio_.sum())

    # ---- write
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "captions.txt"), "w",
              encoding="utf-8", newline="\n") as fh:
        for c in captions:
            fh.write(c + "\n")
    cols = ["row", "digit", "word", "voice", "accent", "variant", "gender",
            "style", "speed_wpm", "speed_bucket", "pitch", "pitch_bucket",
            "image_index", "template", "caption", "bg_digit", "bg_voice",
            "bg_variant", "bg_speed_wpm", "bg_pitch", "bg_offset_frac",
            "sir_db", "snr_db", "pad_before_s", "pad_after_s", "gain_db"]
    with open(os.path.join(args.out, "factors.csv"), "w", encoding="utf-8",
              newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        wr.writeheader()
        for r in rows:
            wr.writerow({k: r[k] for k in cols})

    speaker_note = (
        "Beyond the digit, it carries the speaker: accent, gender/style, speed "
        "and pitch, which the text caption also describes; the image shares "
        "only the digit class with it.")
    audio_desc = (
        "Synthesised speech of the digit word by espeak-ng with a random "
        "speaker (one of 7 English accent voices x 17 voice variants, rate "
        f"{SPEED_RANGE[0]}-{SPEED_RANGE[1]} wpm, pitch {PITCH_RANGE[0]}-"
        f"{PITCH_RANGE[1]}), degraded by a quieter background talker saying a "
        f"different digit ({SIR_RANGE[0]:g}-{SIR_RANGE[1]:g} dB below), random "
        f"leading/trailing silence (0-{PAD_MAX_S:g} s each), white noise "
        f"({SNR_RANGE[0]:g}-{SNR_RANGE[1]:g} dB SNR) and random gain "
        f"(+-{GAIN_DB:g} dB), summarised as {len(AUDIO_FEATURE_NAMES)} numbers: "
        "mean and std over frames of 13 MFCCs (c0..c12), mean and std of their "
        "deltas, log duration (s), log RMS amplitude, median log F0 (Hz) over "
        "voiced frames and the voiced-frame fraction (autocorrelation pitch "
        "tracker). Feature order: " + ", ".join(AUDIO_FEATURE_NAMES) + ". "
        + speaker_note)
    image_desc = (
        "A real handwritten digit of the same class: an 8x8 grey-level image "
        "from scikit-learn's load_digits() (UCI optdigits test set), "
        "flattened row-major to 64 values and divided by 16 into [0, 1]; "
        f"pixels {img_const} (row-major index r*8+c) are 0 in every image and "
        f"were dropped, leaving {len(img_keep)} dims in row-major order. Drawn "
        "at random within class (each sklearn image used at most once per "
        "class until the class is exhausted, then reused), independently of "
        "the speaker: it shares only the class with the audio and text; its "
        "within-class variation (handwriting style) is unrelated to them.")
    text_desc = (
        "A one-line English caption naming the digit and how it was spoken "
        "(accent, gender, voice style if croaky/whispering/elderly, speed "
        "bucket slow/medium/fast, pitch bucket low/medium/high) from 6 seeded "
        "paraphrase templates (see captions.txt), embedded as TF-IDF of "
        "character 2-4-grams (char_wb, sublinear tf) and word unigrams fitted "
        "on the 2,000 captions, reduced by TruncatedSVD to 64 dims "
        f"({text_var:.1%} of TF-IDF variance). It shares the speaker (accent, "
        "gender/style, speed, pitch in coarse buckets) with the audio beyond "
        "the label, and nothing with the image beyond the label.")

    how = (
        f"python data/scripts/make_digits_avt.py --out data/digits-avt "
        f"--seed {seed}. Row labels: seeded random permutation of 200 x each "
        "digit. Per row a speaker is drawn (numpy default_rng(seed)): accent "
        "voice uniform over espeak-ng English voices "
        + ", ".join(v for v, _ in ACCENTS)
        + "; variant uniform over +" + ", +".join(v for v, _, _ in VARIANTS)
        + f"; rate -s uniform integer in [{SPEED_RANGE[0]}, {SPEED_RANGE[1]}] "
        f"wpm (buckets slow <147, medium 147-183, fast >183); pitch -p uniform "
        f"integer in [{PITCH_RANGE[0]}, {PITCH_RANGE[1]}] (buckets low <40, "
        "medium 40-60, high >60). Audio: espeak-ng "
        f"{ver} (Debian package espeak-ng, data from the distribution) run as "
        "`espeak-ng -v <voice>+<variant> -s <wpm> -p <pitch> -w tmp.wav <word>` "
        f"(16-bit mono, {'/'.join(str(s) for s in sorted(srs))} Hz), scaled to "
        "[-1, 1). Per row (second stream default_rng([seed, 1])) a background "
        "talker is drawn: a different digit word, with its own voice, "
        "variant, rate and pitch from the same distributions, synthesised the "
        "same way, placed at a uniform random offset between half its length "
        "before and half the main clip after the main onset (clipped to the "
        "main clip), scaled to SIR uniform in "
        f"[{SIR_RANGE[0]:g}, {SIR_RANGE[1]:g}] dB relative to the main clip's "
        "mean power; then silence uniform in "
        f"[0, {PAD_MAX_S:g}] s is prepended and appended, Gaussian white noise "
        f"at SNR uniform in [{SNR_RANGE[0]:g}, {SNR_RANGE[1]:g}] dB (relative "
        "to the main clip's mean power, per-row generator from "
        "SeedSequence([seed, 2]).spawn(n)) is added over the whole padded "
        f"clip, and a gain uniform in [-{GAIN_DB:g}, {GAIN_DB:g}] dB is "
        "applied. (Without the background talker, padding and gain even 0 dB "
        "white noise leaves the digit ~97% linearly decodable from these "
        "features, so the audio would not be a weak student.) MFCCs "
        "implemented in numpy/scipy: pre-emphasis 0.97, 25 ms Hamming frames, "
        "10 ms hop, 1024-point power spectrum, 40 triangular mel filters "
        "20 Hz-Nyquist (HTK mel), natural log (+1e-10), orthonormal DCT-II "
        "keeping c0..c12, deltas by +-2-frame regression; F0 by normalised "
        "autocorrelation of 40 ms Hann frames (10 ms hop), lag range 60-500 "
        "Hz, frame voiced if the peak exceeds 0.5, log F0 = median over "
        "voiced frames (log 150 Hz when none, e.g. whispers). Image: "
        f"sklearn {sklearn.__version__} load_digits(), data/16, constant "
        f"(always 0) pixels {img_const} dropped. Text: captions from 6 "
        "templates with seeded synonym choices; TfidfVectorizer(char_wb, 2-4, "
        "sublinear_tf) and TfidfVectorizer(word unigrams) concatenated, "
        f"TruncatedSVD(64, randomized, n_iter=10, random_state={seed}). "
        f"numpy {np.__version__}, scipy {scipy.__version__}. Extra files: "
        "captions.txt (caption per row, row order) and factors.csv (per-row "
        "digit, voice, accent, variant, gender, style, speed_wpm, pitch, "
        "their buckets, sklearn image index, caption template and caption, "
        "and the acoustic nuisance: background digit/voice/variant/rate/pitch/"
        "offset fraction, sir_db, snr_db, padding and gain). "
        "Checked: no NaN/inf, no constant or duplicated columns.")

    meta = write_bundle(
        args.out,
        name="digits-avt",
        description=(
            "Ten digit classes seen three ways, paired row-wise over 2,000 "
            "samples (200 per digit): audio = MFCC statistics of the digit "
            "word synthesised by espeak-ng with a random speaker (accent, "
            "gender/style, speed, pitch), degraded by a quieter background "
            "talker saying another digit, silence padding, noise and gain; "
            "image = a real handwritten "
            "8x8 digit of the same class (scikit-learn load_digits); text = an "
            "embedded caption naming the digit and how it was spoken. The "
            "candidate teachers for the audio differ in what they share with "
            "it beyond the label: the caption shares the speaker (accent, "
            "gender, speed, pitch), the image shares only the class. Audio is "
            "the weakest modality (the intended student), the caption names "
            "the digit outright, the image is a strong but speaker-blind "
            "view. Per-row speaker factors are in factors.csv, captions in "
            "captions.txt."),
        source=(
            "Audio synthesised with eSpeak NG (https://github.com/espeak-ng/"
            f"espeak-ng, Debian package espeak-ng {ver}); images from "
            "scikit-learn's bundled load_digits(), a copy of the test set of "
            "the UCI Optical Recognition of Handwritten Digits data set "
            "(Alpaydin, E. & Kaynak, C. (1998), UCI Machine Learning "
            "Repository, https://archive.ics.uci.edu/ml/datasets/"
            "optical+recognition+of+handwritten+digits); "
            "captions generated by the script."),
        licence=(
            "Mixed. image: UCI Optical Recognition of Handwritten Digits, CC BY "
            "4.0 (cite Alpaydin & Kaynak 1998). audio: features derived from "
            "speech generated by eSpeak NG, which is GPL-3.0-or-later software; "
            "the generated speech/features are program output, not a copy of "
            "espeak-ng, and no espeak-ng code or data is included. text: "
            "captions and embeddings generated by the script, released with "
            "cchkit under its licence."),
        how_made=how,
        script="data/scripts/make_digits_avt.py",
        modalities=[("audio", audio, audio_desc), ("image", image, image_desc),
                    ("text", text, text_desc)],
        label=label,
        label_names=[str(d) for d in range(10)],
        label_description=("Digit class c (0..9): the spoken word, the "
                           "handwritten digit and the caption's digit."),
    )
    print(f"wrote {args.out}: n={meta['n']}, espeak-ng {ver}, dims="
          + ", ".join(f"{k}={v['dim']}" for k, v in meta["modalities"].items()))


if __name__ == "__main__":
    main()
