"""Who may act on whom: liaisons within their point's villages, officers within their county.

Pure rules, applied by the service layer on every path (CLI, API, CSV, SMS) before any write.
"""

from __future__ import annotations

from dataclasses import dataclass

from farmer_mailbox.models import Channel, Role, User

# Which roles each staff role may register or edit.
MANAGEABLE: dict[Role, frozenset[Role]] = {
    Role.FARMER: frozenset(),
    Role.LIAISON: frozenset({Role.FARMER}),
    Role.OFFICER: frozenset({Role.FARMER, Role.LIAISON}),
    Role.ADMIN: frozenset(Role),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone acting: a staff user (with a liaison point's villages) or the CLI operator."""

    user: User | None
    channel: Channel
    villages: frozenset[str] = frozenset()

    @property
    def is_operator(self) -> bool:
        """The shell operator (CLI without --by) holds every right, like an admin."""
        return self.user is None

    @property
    def user_id(self) -> int | None:
        """The acting user's id, None for the operator."""
        return self.user.id if self.user else None

    @property
    def role(self) -> Role:
        """The acting role; the operator counts as admin."""
        return self.user.role if self.user else Role.ADMIN

    @property
    def is_staff(self) -> bool:
        """True for liaisons, officers, admins and the operator."""
        return self.role.is_staff


def region_scope_error(actor: Actor, village_code: str) -> str | None:
    """Return an error code when `village_code` lies outside the actor's area, else None."""
    if actor.is_operator or actor.role is Role.ADMIN:
        return None
    assert actor.user is not None
    if actor.role is Role.OFFICER:
        county = actor.user.county_code or ""
        return None if county and village_code[:6] == county[:6] else "scope.county"
    if actor.role is Role.LIAISON:
        return None if village_code in actor.villages else "scope.village"
    return "scope.role"


def scope_error(actor: Actor, village_code: str, target_role: Role) -> str | None:
    """Return an error code when the actor may not register or edit this user, else None."""
    if target_role not in MANAGEABLE[actor.role]:
        return "scope.role"
    return region_scope_error(actor, village_code)


def can_see_phones(viewer: Actor) -> bool:
    """Staff see full phone numbers; everyone else sees them masked."""
    return viewer.is_staff


def can_see_record(viewer: Actor, user: User) -> bool:
    """Whose message record a viewer may read: staff, of the users they may edit; anyone, their own.

    The record holds other people's numbers and words (contact shares, relayed messages), so a
    farmer never reads someone else's, and staff only within their area.
    """
    if viewer.user is not None and viewer.user.id == user.id:
        return True
    return viewer.is_staff and scope_error(viewer, user.village_code, user.role) is None
