"""Opaque global ids shared by GraphQL (`id`, `node(id:)`) and REST (`/v1/<collection>/{id}`).

An id is base64url("Type:primary key"), so it names its type and cannot be confused with
another type's row; clients must treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii

from open287g.errors import ClientError

TYPES = frozenset(
    {"Agreement", "Agency", "Jurisdiction", "ProgramModel", "Policy", "Official", "Dataset"}
)


class BadId(ClientError):
    pass


def to_global_id(type_name: str, key: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadId(f"{global_id!r} is not an id of this API") from exc
    type_name, _, key = raw.partition(":")
    if type_name not in TYPES or not key:
        raise BadId(f"{global_id!r} is not an id of this API")
    return type_name, key


def int_key(global_id: str, expected_type: str) -> int:
    type_name, key = from_global_id(global_id)
    if type_name != expected_type or not key.isdigit():
        raise BadId(f"{global_id!r} is not the id of a {expected_type}")
    return int(key)
