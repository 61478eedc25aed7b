"""The key that hashes addresses for the erasure record and the suppression list.

An erased address must be recognisable again (mail from it is suppressed, a reply to it
refused) without being kept: the database holds HMAC-SHA256(key, normalised address)
only. The key is 32 random bytes in a file of its own (``[privacy] hash_key_file``,
by default next to the Gmail token files), created by the first erasure with mode 0600
and never written to the database, the repository or a log. Without the key a hash
cannot be checked against guessed addresses; with a lost key the suppression list can
no longer be matched (keep the file with the token files' backups).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from crm_core.errors import ConflictError
from crm_core.normalize import normalize_email

KEY_BYTES = 32

# normalised address -> hex digest; what the services take, so that they never see the key.
AddressHasher = Callable[[str], str]


def read_hash_key(path: Path) -> bytes:
    """The key in ``path``; raises ConflictError (one line) when it is missing or bad."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise ConflictError(
            f"the privacy hash key {path} is missing: restore it from the backup of the "
            "token files (erased addresses cannot be recognised without it)"
        ) from None
    except OSError as exc:
        raise ConflictError(f"cannot read the privacy hash key {path}: {exc.strerror}") from None
    if len(key) < KEY_BYTES:
        raise ConflictError(f"the privacy hash key {path} is shorter than {KEY_BYTES} bytes")
    return key


def read_or_create_hash_key(path: Path) -> bytes:
    """The key in ``path``, created (random, mode 0600) when there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # created by someone else a moment ago
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(KEY_BYTES))
    return read_hash_key(path)


def address_hasher(key: bytes) -> AddressHasher:
    """HMAC-SHA256 of the normalised address under ``key``, as 64 hex digits."""

    def digest(address: str) -> str:
        normalized = normalize_email(address)
        return hmac.new(key, normalized.encode("utf-8"), hashlib.sha256).hexdigest()

    return digest


def file_hasher(path: Path, *, create: bool = False) -> AddressHasher:
    """An AddressHasher that reads the key file on first use (so that ingestion reads
    it only once there is a suppressed address to compare with)."""
    loaded: list[AddressHasher] = []

    def digest(address: str) -> str:
        if not loaded:
            key = read_or_create_hash_key(path) if create else read_hash_key(path)
            loaded.append(address_hasher(key))
        return loaded[0](address)

    return digest
