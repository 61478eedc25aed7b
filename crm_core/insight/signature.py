"""MinHash signatures of normalised bodies and their LSH band keys.

``datasketch`` computes the signature (64 permutations over word 3-shingles of
``template_text``); the bands are ours, kept in the database (``message_template_bands``)
so every worker process finds the same templates with one indexed lookup, which
datasketch's in-memory LSH cannot give across processes. 16 bands of 4 rows: two bodies
with a Jaccard similarity of 0.6 share a band with probability 0.89, of 0.8 with
0.9999, of 0.3 with 0.12 (and are then told apart by the signature itself).
``datasketch`` (numpy, scipy) is imported on first use, never at command start.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import TYPE_CHECKING, Any

from crm_core.insight.text import template_text

if TYPE_CHECKING:
    from datasketch import MinHash

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SAME_TEMPLATE = 0.6  # estimated Jaccard similarity at and above which bodies share a template
_SHINGLE = 3


@cache
def _prototype() -> MinHash:
    from datasketch import MinHash  # lazily: numpy and scipy load in ~0.5 s

    return MinHash(num_perm=PERMUTATIONS, seed=1)


def _shingles(text: str) -> list[bytes]:
    words = text.split()
    if len(words) <= _SHINGLE:
        return [" ".join(words).encode()] if words else []
    return [" ".join(words[i : i + _SHINGLE]).encode() for i in range(len(words) - _SHINGLE + 1)]


def signature_of(body: str) -> bytes | None:
    """The signature of a body's normalised text; None when nothing is left of it."""
    shingles = _shingles(template_text(body))
    if not shingles:
        return None
    prototype = _prototype()
    minhash: Any = type(prototype)(
        num_perm=PERMUTATIONS,
        seed=1,
        permutations=prototype.permutations,
        scheme=prototype.scheme,
    )
    minhash.update_batch(shingles)
    return bytes(minhash.digest().astype("<u4").tobytes())


def band_keys(signature: bytes) -> list[str]:
    """The signature's LSH band keys: "band:hash"."""
    width = ROWS * 4
    keys = []
    for band in range(BANDS):
        rows = signature[band * width : (band + 1) * width]
        keys.append(f"{band}:{hashlib.blake2b(rows, digest_size=12).hexdigest()}")
    return keys


def similarity(a: bytes, b: bytes) -> float:
    """The estimated Jaccard similarity of the texts behind two signatures."""
    count = len(a) // 4
    same = sum(a[i * 4 : i * 4 + 4] == b[i * 4 : i * 4 + 4] for i in range(count))
    return same / count if count else 0.0
