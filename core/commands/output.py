"""How every command prints: one JSON value per line, the last line machine-readable."""

from __future__ import annotations

import json


def print_json(value) -> None:
    print(json.dumps(value, default=str))
