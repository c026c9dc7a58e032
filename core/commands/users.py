"""`flywheel users add | list | remove | passwd | role`: who may sign in to the app, with which role.

Passwords are read with getpass (or one line of stdin with --password-stdin), never from argv,
where they would sit in the shell history and the process list.
"""

from __future__ import annotations

import getpass
import sys

from core.commands.output import open_store, print_json
from core.errors import InputError
from core.settings import Settings
from core.storage import accounts
from core.storage.auth import ROLE_HELP, Role, Users, check_name

ACTOR = "cli"


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"Password for {args.name}: ")
    if first != getpass.getpass("Again: "):
        raise InputError("the two passwords differ; nothing was changed")
    return first


def _add(settings: Settings, args) -> int:
    check_name(args.name)
    password = None if args.oidc else _password(args)
    user = accounts.add_user(open_store(settings), Users(settings.users_file), ACTOR, args.name, args.role, password)
    print_json({"added": user.name, "role": user.role.value, "users_file": str(settings.users_file)})
    return 0


def _list(settings: Settings, args) -> int:
    print_json([{"name": u.name, "role": u.role.value} for u in Users(settings.users_file).list()])
    return 0


def _remove(settings: Settings, args) -> int:
    user = accounts.remove_user(open_store(settings), Users(settings.users_file), ACTOR, args.name)
    print_json({"removed": user.name})
    return 0


def _passwd(settings: Settings, args) -> int:
    users = Users(settings.users_file)
    if users.get(args.name) is None:  # before asking for a password
        raise InputError(f"user {args.name} does not exist; flywheel users list shows who does")
    accounts.set_password(open_store(settings), users, ACTOR, args.name, _password(args))
    print_json({"password_changed": args.name})
    return 0


def _role(settings: Settings, args) -> int:
    old, new = accounts.set_role(open_store(settings), Users(settings.users_file), ACTOR, args.name, args.role)
    print_json({"name": args.name, "role": new.value, "was": old.value})
    return 0


def register(subparsers) -> None:
    users = subparsers.add_parser("users", help="who may sign in to the app (a users file with argon2 hashes)")
    sub = users.add_subparsers(dest="users_command", required=True)
    roles = [r.value for r in Role]

    add = sub.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=roles, help=ROLE_HELP)
    add.add_argument("--oidc", action="store_true", help="no password: this user signs in through the OIDC provider")
    add.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    add.set_defaults(handler=_add)

    sub.add_parser("list", help="names and roles, as JSON").set_defaults(handler=_list)

    remove = sub.add_parser("remove", help="remove a user")
    remove.add_argument("name")
    remove.set_defaults(handler=_remove)

    passwd = sub.add_parser("passwd", help="set a user's password (asks for it)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    passwd.set_defaults(handler=_passwd)

    role = sub.add_parser("role", help="change a user's role")
    role.add_argument("name")
    role.add_argument("role", choices=roles, help=ROLE_HELP)
    role.set_defaults(handler=_role)
