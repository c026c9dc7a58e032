"""User management with its audit trail: what `flywheel users` and the app's Users page both call.

Each change goes through the users file (core/storage/auth.py, which refuses to leave the users
without an admin) and is then logged as an event by the actor: "cli" from the shell, the
signed-in admin from the app (whose role is checked first).
"""

from __future__ import annotations

from core.storage.auth import Action, Role, User, Users, actor_name
from core.storage.schemas import target
from core.storage.store import Store


def _log(store: Store, actor: str, action: str, name: str, **detail) -> None:
    store.log(actor, action, target("user", name), **detail)


def add_user(store: Store, users: Users, actor: str | User, name: str, role: Role | str, password: str | None) -> User:
    """A new user; password None makes an OIDC-only user (signs in through the provider)."""
    who = actor_name(actor, Action.manage_users)
    user = users.add(name, role, password)
    _log(store, who, "user_added", user.name, role=user.role.value, oidc=password is None)
    return user


def remove_user(store: Store, users: Users, actor: str | User, name: str) -> User:
    who = actor_name(actor, Action.manage_users)
    user = users.remove(name)
    _log(store, who, "user_removed", user.name, role=user.role.value)
    return user


def set_role(store: Store, users: Users, actor: str | User, name: str, role: Role | str) -> tuple[Role, Role]:
    who = actor_name(actor, Action.manage_users)
    old, new = users.set_role(name, role)
    _log(store, who, "role_changed", name, old=old.value, new=new.value)
    return old, new


def set_password(store: Store, users: Users, actor: str | User, name: str, password: str) -> None:
    who = actor_name(actor, Action.manage_users)
    users.set_password(name, password)
    _log(store, who, "password_changed", name)
