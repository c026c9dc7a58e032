"""Signed session tokens, so a password sign-in survives a browser reload (the app keeps one in a cookie).

A token names the user, an expiry and a random session id, and carries an HMAC over them and the
user's current entry (role and password hash) with a per-installation secret kept beside the users
file (mode 600). Removing the user, changing the role or the password therefore ends every session
at once; a token cannot be forged or moved to another name.

Signing out ends one session, not the user's other devices: its id goes into a revocation list
beside the users file (`users.revoked.json`, mode 600), checked with the signature. The list is the
state every server process on the workspace shares, so a revocation holds across processes and
restarts; an entry is dropped once its token has expired anyway, so the list holds at most the
sign-outs of the last LIFETIME_S.

Residual risk: Streamlit cannot set cookies, so a page script sets this one and it cannot be
HttpOnly. Script running in the app's page (an XSS) can read the token and use it from elsewhere
until the session signs out or the token expires (at most LIFETIME_S); after either it is refused.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from core.errors import InputError
from core.storage.auth import User, Users

COOKIE = "flywheel_session"
LIFETIME_S = 12 * 3600


def secret_path(users: Users) -> Path:
    return users.path.with_name(users.path.stem + ".session-key")


def revoked_path(users: Users) -> Path:
    return users.path.with_name(users.path.stem + ".revoked.json")


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


def _signature(users: Users, name: str, expires: int, session: str, fingerprint: str) -> str:
    message = f"{name}\n{expires}\n{session}\n{fingerprint}".encode()
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
    session = secrets.token_urlsafe(16)  # [A-Za-z0-9_-]: no dot
    return f"{encoded}.{expires}.{session}.{_signature(users, name, expires, session, fingerprint)}"


def _parse(token: str | None) -> tuple[str, int, str, str] | None:
    """(name, expires, session id, signature), unverified; None when malformed (an old three-part token too)."""
    try:
        encoded, expires_text, session, signature = (token or "").split(".")
        name = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        return name, int(expires_text), session, signature
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def check(users: Users, token: str | None, now: float | None = None) -> User | None:
    """The user a token names when it is intact, unexpired, not signed out and the user's entry is unchanged."""
    parsed = _parse(token)
    if parsed is None:
        return None
    name, expires, session, signature = parsed
    if expires < (time.time() if now is None else now):
        return None
    fingerprint = users.fingerprint(name)
    if fingerprint is None or not hmac.compare_digest(signature, _signature(users, name, expires, session, fingerprint)):
        return None
    return None if revoked(users, token) else users.get(name)


def _read_revoked(path: Path) -> dict[str, int]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"the signed-out sessions list expects JSON, but {path.name} could not be read ({type(error).__name__}); "
                         f"remove it together with {path.name.replace('.revoked.json', '.session-key')} "
                         "(that signs everyone out)") from None


def revoked(users: Users, token: str | None) -> bool:
    """Whether the session this token belongs to has signed out (read without the lock: writes replace the file whole)."""
    parsed = _parse(token)
    return parsed is not None and parsed[2] in _read_revoked(revoked_path(users))


def revoke(users: Users, token: str | None, now: float | None = None) -> bool:
    """End the token's session for every server process (sign-out); False for a malformed or expired token.

    No signature check: the session id is 128 random bits, so only a holder of the token can end
    its session, and a session whose user changed role since still ends in its other tabs. The
    entry is kept until the token's expiry (at most LIFETIME_S from now) and pruned on a later
    write, under an flock so that two processes signing out at once both keep theirs.
    """
    now = time.time() if now is None else now
    parsed = _parse(token)
    if parsed is None or parsed[1] < now:
        return False
    path = revoked_path(users)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        entries = {session: expires for session, expires in _read_revoked(path).items() if expires >= now}
        entries[parsed[2]] = min(parsed[1], int(now) + LIFETIME_S)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps(entries))
        os.chmod(scratch, 0o600)
        scratch.replace(path)
    finally:
        os.close(fd)
    return True
