"""Who may do what: users, roles and the one permission check every UI entry point goes through.

Users live in a small JSON file (FLYWHEEL_USERS, or `users.json` in the workspace folder)
with argon2 hashes, never in the workspace tables: a reviewer who can grade must not be able
to read or forge them. No users file (or an empty one) means sign-in is off: one local user,
the app on loopback only. Core functions take `actor` as a plain name (the CLI, whose user
already has the shell) or as a `User` (the app), whose role is checked here.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import FlywheelError, InputError


class Role(StrEnum):
    """Each role may do all that the one before it may (so minimum_role names the one to ask for)."""

    viewer = "viewer"  # a PM: reads Results, Agreement and Data, downloads reports and CSVs, changes nothing
    annotator = "annotator"
    engineer = "engineer"
    admin = "admin"


class Action(StrEnum):
    review = "review"  # approve / edit / reject synthetic queries
    grade = "grade"  # grade, flag hard negatives, undo one's own decisions
    read = "read"  # Home, Data (browse and search), Agreement and Results pages
    generate = "generate"  # write synthetic queries
    import_data = "import"
    export_data = "export"
    train = "train"  # launch runs, assign splits
    cancel = "cancel"
    report = "report"  # HTML report and CSV downloads
    edit_guidelines = "edit guidelines"  # the workspace's grading guidelines (annotators read them)
    manage_users = "manage users"
    choose_workspace = "choose workspace"
    delete = "delete"


VIEWER = {Action.read, Action.report}  # reading and downloading write nothing
ANNOTATOR = VIEWER | {Action.review, Action.grade}
ENGINEER = ANNOTATOR | {Action.generate, Action.import_data, Action.export_data, Action.train, Action.cancel,
                        Action.edit_guidelines}
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.viewer: frozenset(VIEWER),
    Role.annotator: frozenset(ANNOTATOR),
    Role.engineer: frozenset(ENGINEER),
    Role.admin: frozenset(Action),
}
ROLE_HELP = ("viewer: reads Results, Agreement and Data, downloads reports and CSVs; annotator: also reviews and grades; "
             "engineer: also generates, imports, exports, trains and cancels; admin: everything, and users")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")  # also an e-mail address (OIDC)
MIN_PASSWORD = 8
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")  # verify against it for unknown names: same timing


class PermissionDenied(FlywheelError):
    """The signed-in user's role does not allow this action."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    def can(self, action: Action) -> bool:
        return action in ROLE_ACTIONS[self.role]


def minimum_role(action: Action) -> Role:
    return next(role for role in Role if action in ROLE_ACTIONS[role])


def require(user: User, action: Action) -> None:
    if not user.can(action):
        raise PermissionDenied(
            f"{action.value} expects the {minimum_role(action).value} role, but {user.name} is {user.role.value}; "
            "ask an admin (flywheel users add NAME --role ROLE)"
        )


def actor_name(actor: str | User, action: Action) -> str:
    """The name to log for `actor`; a signed-in User must hold a role that allows `action`."""
    if isinstance(actor, User):
        require(actor, action)
        return actor.name
    return actor


def check_name(name: str) -> str:
    if not NAME.match(name or ""):
        raise InputError(f"a user name expects 1–64 letters, digits or . _ @ + -, starting with a letter or digit, but got {name[:80]!r}")
    return name


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InputError(f"a role expects one of {', '.join(Role)}, but got {value!r}") from None


class Users:
    """The users file: {name: {"role": …, "hash": argon2 hash or "" for OIDC-only users}}."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _read(self) -> dict[str, dict]:
        if not self.path.exists():
            return {}
        try:
            return json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"the users file expects JSON, but {self.path.name} could not be read ({type(error).__name__}); "
                             "restore it or remove it and add the users again") from None

    def _write(self, users: dict[str, dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps(users, indent=1, sort_keys=True))
        os.chmod(scratch, 0o600)  # hashes are for the server only
        scratch.replace(self.path)

    @property
    def enabled(self) -> bool:
        """Sign-in is on as soon as one user exists."""
        return bool(self._read())

    def list(self) -> list[User]:
        return [User(name, Role(entry["role"])) for name, entry in sorted(self._read().items())]

    def get(self, name: str) -> User | None:
        entry = self._read().get(name)
        return User(name, Role(entry["role"])) if entry else None

    def add(self, name: str, role: Role | str, password: str | None) -> User:
        users = self._read()
        if name in users:
            raise InputError(f"user {name} already exists; use flywheel users passwd or --role on a new name")
        users[check_name(name)] = {"role": parse_role(str(role)).value, "hash": self._hash(password) if password is not None else ""}
        self._write(users)
        return User(name, Role(users[name]["role"]))

    def set_role(self, name: str, role: Role | str) -> tuple[Role, Role]:
        users = self._existing(name)
        old = Role(users[name]["role"])
        users[name]["role"] = parse_role(str(role)).value
        self._keep_an_admin(users, name, "demote")
        self._write(users)
        return old, Role(users[name]["role"])

    def set_password(self, name: str, password: str) -> None:
        users = self._existing(name)
        users[name]["hash"] = self._hash(password)
        self._write(users)

    def remove(self, name: str) -> User:
        users = self._existing(name)
        entry = users.pop(name)
        self._keep_an_admin(users, name, "remove")
        self._write(users)
        return User(name, Role(entry["role"]))

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password matches; None otherwise (unknown names take as long)."""
        entry = self._read().get(name)
        stored = entry["hash"] if entry and entry.get("hash") else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, Role(entry["role"])) if entry and entry.get("hash") else None

    def fingerprint(self, name: str) -> str | None:
        """What a session token is bound to: the role and password hash (None for unknown names)."""
        entry = self._read().get(name)
        return f"{entry['role']}\n{entry.get('hash', '')}" if entry else None

    def _keep_an_admin(self, after: dict[str, dict], name: str, verb: str) -> None:
        """Users left with no admin could not manage users in the app any more."""
        before = self._read()
        had_admin = any(e["role"] == Role.admin.value for e in before.values())
        if had_admin and after and not any(e["role"] == Role.admin.value for e in after.values()):
            raise InputError(f"{verb} {name} expects another admin to remain, but {name} is the last admin; "
                             "make another user admin first")

    def _existing(self, name: str) -> dict[str, dict]:
        users = self._read()
        if name not in users:
            raise InputError(f"user {name} does not exist; flywheel users list shows who does")
        return users

    @staticmethod
    def _hash(password: str) -> str:
        if len(password) < MIN_PASSWORD:
            raise InputError(f"a password expects at least {MIN_PASSWORD} characters, but got {len(password)}")
        return _hasher.hash(password)
