"""Primary keys that are unique without a database round trip.

The specification uses cuid; we use its successor, cuid2 (collision resistant,
safe to generate on many machines at once, 25 characters, starts with a letter).
"""

from cuid2 import Cuid

_generator = Cuid(length=25)

ID_LENGTH = 25


def new_id() -> str:
    """Return a fresh, globally unique id."""
    return str(_generator.generate())
