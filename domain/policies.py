"""Who may see and change what. Decided here once; every use case asks."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from domain.errors import LastAdministrator, PermissionDenied, UserNotFound
from domain.item import Item, ItemNotFound
from domain.user import User

ADMIN_ONLY_USER_FIELDS = frozenset({"roles", "is_active"})


def ensure_can_see_user(actor: User, target_id: uuid.UUID) -> None:
    """Yourself, or anyone when you are an administrator. Others do not exist for you."""
    if actor.id != target_id and not actor.is_admin:
        raise UserNotFound()


def ensure_can_list_users(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator may list users")


def ensure_can_change_user(actor: User, target: User, fields: Collection[str]) -> None:
    """Users change their own profile; roles and the active flag are an administrator's."""
    ensure_can_see_user(actor, target.id)
    forbidden = sorted(ADMIN_ONLY_USER_FIELDS.intersection(fields))
    if forbidden and not actor.is_admin:
        raise PermissionDenied(f"Only an administrator may change {' or '.join(forbidden)}")


def ensure_an_admin_remains(before: User, after: User | None, active_admins: int) -> None:
    """The last active administrator may not be demoted, deactivated or deleted (``after``
    is None for a deletion): nobody could manage the service any more."""
    losing_one = before.is_active_admin and (after is None or not after.is_active_admin)
    if losing_one and active_admins <= 1:
        raise LastAdministrator()


def ensure_can_see_item(actor: User, item: Item) -> None:
    """The owner or an administrator; for anyone else the item does not exist."""
    if item.owner_id != actor.id and not actor.is_admin:
        raise ItemNotFound()


ensure_can_change_item = ensure_can_see_item


def item_owner_scope(actor: User, owner_id: uuid.UUID | None) -> uuid.UUID | None:
    """Whose items a listing covers: your own, or for an administrator everyone's (or the
    one owner asked for)."""
    if actor.is_admin:
        return owner_id
    if owner_id is not None and owner_id != actor.id:
        raise PermissionDenied("Only an administrator may list other users' items")
    return actor.id


def ensure_can_read_audit_trail(actor: User) -> None:
    """Everyone's security events are an administrator's to read; one's own are anyone's."""
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator may read the audit trail")
