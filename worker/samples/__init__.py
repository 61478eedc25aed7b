"""The shipped sample mailbox (a Google Takeout mbox) and what ingesting it must produce.

``rendetalje.mbox`` is written by ``python -m worker.samples.build_sample``;
``expected.json`` describes, per Gmail message id, how correct ingestion classifies
each message. See README.md in this directory.
"""

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
SAMPLE_MBOX = SAMPLES_DIR / "rendetalje.mbox"
SAMPLE_EXPECTED = SAMPLES_DIR / "expected.json"

__all__ = ["SAMPLES_DIR", "SAMPLE_EXPECTED", "SAMPLE_MBOX"]
