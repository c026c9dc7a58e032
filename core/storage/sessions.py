"""Signed session tokens, so a password sign-in survives a browser reload (the app keeps one in a cookie).

A token names the user and an expiry and carries an HMAC over them and the user's current entry
(role and password hash) with a per-installation secret kept beside the users file (mode 600).
Removing the user, changing the role or the password therefore ends every session at once,
without a server-side session list; a token cannot be forged or moved to another name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from core.storage.auth import User, Users

COOKIE = "flywheel_session"
LIFETIME_S = 12 * 3600


def secret_path(users: Users) -> Path:
    return users.path.with_name(users.path.stem + ".session-key")


def _secret(users: Users) -> bytes:
    """The installation's key, made on first use (O_EXCL: two servers starting at once agree on one)."""
    path = secret_path(users)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(32))
    return path.read_bytes()


def _signature(users: Users, name: str, expires: int, fingerprint: str) -> str:
    message = f"{name}\n{expires}\n{fingerprint}".encode()
    return hmac.new(_secret(users), message, hashlib.sha256).hexdigest()


def password_stamp(users: Users, name: str) -> str | None:
    """A short digest of the user's password hash: an open session ends when it changes (a reset)."""
    fingerprint = users.fingerprint(name)
    return hashlib.sha256(fingerprint.split("\n", 1)[1].encode()).hexdigest()[:16] if fingerprint else None


def issue(users: Users, name: str, now: float | None = None) -> str:
    """A token for `name` (who just signed in), valid for LIFETIME_S; only cookie-safe characters."""
    fingerprint = users.fingerprint(name)
    if fingerprint is None:
        raise ValueError(f"issue expects an existing user, but {name!r} is not in the users file")
    expires = int((time.time() if now is None else now) + LIFETIME_S)
    encoded = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
    return f"{encoded}.{expires}.{_signature(users, name, expires, fingerprint)}"


def check(users: Users, token: str | None, now: float | None = None) -> User | None:
    """The user a token names when it is intact, unexpired and the user's entry is unchanged; else None."""
    try:
        encoded, expires_text, signature = (token or "").split(".")
        name = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        expires = int(expires_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if expires < (time.time() if now is None else now):
        return None
    fingerprint = users.fingerprint(name)
    if fingerprint is None or not hmac.compare_digest(signature, _signature(users, name, expires, fingerprint)):
        return None
    return users.get(name)
