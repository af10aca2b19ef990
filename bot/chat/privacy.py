"""Keyed hashes of user and chat ids, and the key they are made with.

The key is ``QUESTION_LOG_SECRET`` from the environment or, when unset, a random key
generated once into the data directory (readable by its owner only). A hash is the
same for one person on one platform (so ``/forgetme`` finds their rows) and says
nothing about who they are to anyone without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_VARIABLE = "QUESTION_LOG_SECRET"
KEY_FILE = "question_log.key"  # the generated secret, under the data directory


def load_secret(data_dir: Path) -> bytes:
    """The hashing key: ``QUESTION_LOG_SECRET``, else one generated once into ``data_dir``.

    The generated file is readable by its owner only; losing it only means that rows
    written before can no longer be found by ``/forgetme`` (retention still deletes them).
    """
    value = os.environ.get(SECRET_VARIABLE, "").strip()
    if value:
        return value.encode()
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


class IdHasher:
    """Keyed hashes of user and chat ids: equal for one person on one platform, else opaque."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the question log's secret is empty")
        self._secret = secret

    def __call__(self, kind: str, platform: str, value: str) -> str:
        """The hash of ``value`` (a ``user`` or ``chat`` id of ``platform``)."""
        # Telegram's inline mode is Telegram: one person, one hash.
        family = platform.split("-", 1)[0]
        message = f"{kind}\x1f{family}\x1f{value}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]
