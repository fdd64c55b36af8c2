"""Shared pieces of the espeak-ng / font bundles (letters-sgp, words-cat).

Used only by the one-off generation scripts in ``data/scripts``; cchkit never imports it.

* :func:`degraded_speech_features`: espeak-ng speech of a word with a random speaker, a quieter
  background talker, silence padding, white noise and gain, summarised by the 56 MFCC/pitch
  statistics of ``make_digits_avt.audio_features`` (the digits-avt recipe, reused unchanged).
* :func:`render_text`: a string drawn by FreeType (Pillow) in a given font, size, rotation and
  offset, blurred, noised and area-averaged to a small grey image.
* :func:`corrupt`: character substitutions, deletions and insertions (typos).
* :func:`tfidf_svd`: TF-IDF of character n-grams reduced by TruncatedSVD.
"""
from __future__ import annotations

import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_digits_avt as avt  # noqa: E402

FONT_GLOBS = ("/usr/share/fonts/truetype/dejavu/*.ttf", "/usr/share/fonts/truetype/liberation/*.ttf",
              "/usr/share/fonts/opentype/urw-base35/*.otf")
#: symbol / dingbat fonts draw no Latin letters
FONT_EXCLUDE = ("StandardSymbols", "D050000L", "Z003")


def fonts() -> list[str]:
    """Every Latin text font of the Debian packages fonts-dejavu-core, fonts-liberation and
    fonts-urw-base35, sorted (so a seed picks the same font on any machine with them)."""
    out = sorted(p for g in FONT_GLOBS for p in glob.glob(g)
                 if not any(x in os.path.basename(p) for x in FONT_EXCLUDE))
    if len(out) < 20:
        raise SystemExit("install fonts-dejavu-core fonts-liberation fonts-urw-base35 (apt-get install ...)")
    return out


def speaker(rng: np.random.Generator) -> dict:
    """A random espeak-ng speaker from the digits-avt distributions."""
    voice, accent = avt.ACCENTS[int(rng.integers(len(avt.ACCENTS)))]
    variant = avt.VARIANTS[int(rng.integers(len(avt.VARIANTS)))][0]
    return dict(voice=voice, accent=accent, variant=variant,
                speed=int(rng.integers(avt.SPEED_RANGE[0], avt.SPEED_RANGE[1] + 1)),
                pitch=int(rng.integers(avt.PITCH_RANGE[0], avt.PITCH_RANGE[1] + 1)))


def nuisance(rng: np.random.Generator, sir_db: tuple[float, float], snr_db: tuple[float, float]) -> dict:
    return dict(bg_offset_frac=float(rng.random()), sir_db=float(rng.uniform(*sir_db)),
                snr_db=float(rng.uniform(*snr_db)), pad_before_s=float(rng.uniform(0, avt.PAD_MAX_S)),
                pad_after_s=float(rng.uniform(0, avt.PAD_MAX_S)),
                gain_db=float(rng.uniform(-avt.GAIN_DB, avt.GAIN_DB)))


def degraded_speech_features(text: str, spk: dict, bg_text: str, bg_spk: dict, nz: dict,
                             noise_seed: np.random.SeedSequence, path: str) -> np.ndarray:
    """56 MFCC/pitch statistics of ``text`` spoken by ``spk`` over ``bg_text`` spoken by ``bg_spk``."""
    sr, w = avt.synth(text, spk["voice"], spk["variant"], spk["speed"], spk["pitch"], path)
    sr2, u = avt.synth(bg_text, bg_spk["voice"], bg_spk["variant"], bg_spk["speed"], bg_spk["pitch"], path)
    os.remove(path)
    assert sr2 == sr
    p_sig = np.mean(w ** 2)
    off = int(round(-u.size / 2 + nz["bg_offset_frac"] * (w.size / 2 + u.size / 2)))
    bg = np.zeros_like(w)
    s0, u0 = max(off, 0), max(-off, 0)
    m = max(0, min(w.size - s0, u.size - u0))
    bg[s0:s0 + m] = u[u0:u0 + m]
    x = w + bg * np.sqrt(p_sig / np.mean(u ** 2) / 10 ** (nz["sir_db"] / 10))
    x = np.concatenate([np.zeros(int(round(nz["pad_before_s"] * sr))), x,
                        np.zeros(int(round(nz["pad_after_s"] * sr)))])
    x = x + np.random.default_rng(noise_seed).standard_normal(x.size) * np.sqrt(p_sig / 10 ** (nz["snr_db"] / 10))
    return avt.audio_features(x * 10 ** (nz["gain_db"] / 20), sr)


def render_text(text: str, font_path: str, *, size: int, canvas: tuple[int, int], angle: float,
                offset: tuple[int, int], blur: float, noise: float, out_shape: tuple[int, int],
                rng: np.random.Generator) -> np.ndarray:
    """``text`` drawn white on black, centred plus ``offset``, rotated by ``angle`` degrees, blurred
    (Gaussian, radius ``blur``), plus N(0, noise^2) pixel noise, area-averaged to ``out_shape``
    (rows, cols), values in [0, 1]."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    w, h = canvas
    img = Image.new("L", (w, h), 0)
    font = ImageFont.truetype(font_path, size)
    draw = ImageDraw.Draw(img)
    box = draw.textbbox((0, 0), text, font=font)
    x0 = (w - (box[2] - box[0])) / 2 - box[0] + offset[0]
    y0 = (h - (box[3] - box[1])) / 2 - box[1] + offset[1]
    draw.text((x0, y0), text, fill=255, font=font)
    img = img.rotate(angle, resample=Image.BILINEAR).filter(ImageFilter.GaussianBlur(blur))
    a = np.asarray(img, dtype=np.float64) / 255.0
    a = np.clip(a + rng.normal(0.0, noise, a.shape), 0.0, 1.0)
    r, c = out_shape
    return a.reshape(r, h // r, c, w // c).mean(axis=(1, 3)).ravel()


def corrupt(s: str, rate: float, alphabet: str, rng: np.random.Generator) -> str:
    """Each character substituted, deleted or followed by an insertion, each with probability
    ``rate / 3``, from ``alphabet``."""
    out = []
    for ch in s:
        u = rng.random()
        if u < rate / 3:
            out.append(alphabet[int(rng.integers(len(alphabet)))])
        elif u < 2 * rate / 3:
            continue
        elif u < rate:
            out += [ch, alphabet[int(rng.integers(len(alphabet)))]]
        else:
            out.append(ch)
    return "".join(out) or s[:1]


def tfidf_svd(texts: list[str], ngrams: tuple[int, int], dim: int, seed: int) -> tuple[np.ndarray, float]:
    """Character n-gram TF-IDF (sublinear tf) reduced to ``dim`` by TruncatedSVD; returns the
    embedding (float32) and the share of TF-IDF variance it keeps."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tf = TfidfVectorizer(analyzer="char", ngram_range=ngrams, sublinear_tf=True, lowercase=False).fit_transform(texts)
    svd = TruncatedSVD(n_components=dim, algorithm="randomized", n_iter=10, random_state=seed)
    return svd.fit_transform(tf).astype(np.float32), float(svd.explained_variance_ratio_.sum())


def drop_constant(x: np.ndarray) -> tuple[np.ndarray, list[int]]:
    const = [int(j) for j in np.flatnonzero(np.all(x == x[:1], axis=0))]
    keep = [j for j in range(x.shape[1]) if j not in const]
    return np.ascontiguousarray(x[:, keep], dtype=np.float32), const
