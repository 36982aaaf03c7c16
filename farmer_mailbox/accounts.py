"""Real-name accounts (实名制): registration, edits, views and the audited export.

Every path (CLI, JSON API, CSV import, a liaison's SMS) comes through `Accounts`, which
validates, resolves the village, checks the actor's scope and uniqueness, writes the user and
an event to the message record in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from farmer_mailbox import wording
from farmer_mailbox.clock import Clock, to_db
from farmer_mailbox.models import Channel, Level, Role, User, UserStatus
from farmer_mailbox.privacy import IdVault, mask_id, mask_phone
from farmer_mailbox.regions import RegionTree
from farmer_mailbox.scoping import Actor, can_see_phones, region_scope_error, scope_error
from farmer_mailbox.store import NewRecord, NewUser, Reads, Store, Tx
from farmer_mailbox.validation import ValidationError, validate_id_number, validate_mobile, validate_name


def fail(code: str, **params: object) -> ValidationError:
    """Build a ValidationError from an error code and its message parameters."""
    return ValidationError(code, wording.ERRORS[code].format(**params))


LEVEL_NAMES = {Level.PROVINCE: "省", Level.CITY: "市", Level.COUNTY: "县(区)", Level.TOWN: "镇(街道)"}


def _level_names(levels: set[Level]) -> str:
    """县(区)或镇(街道): what a place name above village level names, for the refusal."""
    return "或".join(LEVEL_NAMES[level] for level in sorted(levels) if level in LEVEL_NAMES)


def mask_name(name: str) -> str:
    """Show a name as its first character and stars (张*, 欧阳**)."""
    return name[:1] + "*" * (len(name) - 1)


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    """What staff type to register someone; every field still raw text."""

    name: str
    id_number: str
    phone: str
    village: str
    role: str = "farmer"
    interests: tuple[str, ...] = ()
    liaison_point: str = ""
    county: str = ""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated registration, ready to insert once uniqueness holds."""

    new: NewUser
    village_name: str
    raw_id: str = field(repr=False)


def token_hash(token: str) -> str:
    """Hash an API token for storage (tokens are random, so plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """The account service; stateless apart from its collaborators."""

    def __init__(self, store: Store, tree: RegionTree, vault: IdVault, clock: Clock,
                 canonical_product: Callable[[str], str | None] | None = None) -> None:
        self.store, self.tree, self.vault, self.clock = store, tree, vault, clock
        self._canonical = canonical_product or (lambda word: word.strip() or None)

    async def actor_for(self, user: User | None, channel: Channel) -> Actor:
        """Build the acting identity, with a liaison's villages loaded."""
        villages: frozenset[str] = frozenset()
        if user is not None and user.role is Role.LIAISON and user.liaison_point_id is not None:
            point = await self.store.liaison_point(user.liaison_point_id)
            villages = frozenset(point.villages) if point else frozenset()
        return Actor(user, channel, villages)

    def resolve_village(self, actor: Actor, text: str) -> str:
        """Turn a village name or code into a village code, near the actor when ambiguous."""
        text = text.strip()
        if text.isdigit() and len(text) == 12:
            region = self.tree.get(text)
            if region is None:
                raise fail("village.unknown")
        else:
            home = actor.user.village_code if actor.user else None
            if actor.user and actor.user.role is Role.OFFICER and actor.user.county_code:
                home = actor.user.county_code
            resolution = self.tree.resolve(text, home)
            if resolution.ambiguous:
                levels = {r.level for r in resolution.candidates}
                if Level.VILLAGE not in levels:   # 横河镇: several towns of that name, but no village
                    raise fail("village.not_village", name=text[:12], level=_level_names(levels))
                raise fail("village.ambiguous")
            if resolution.region is None:
                raise fail("village.unknown")
            region = resolution.region
        if region.level is not Level.VILLAGE:
            raise fail("village.not_village", name=region.name[:12], level=_level_names({region.level}))
        return region.code

    def canonical_interests(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """Canonical product names for what a user follows (unknown words dropped)."""
        found = (self._canonical(w) for w in words)
        return tuple(sorted({w for w in found if w}))

    async def _staff_fields(self, actor: Actor, form: RegistrationForm, role: Role) -> tuple[int | None, str | None]:
        point_id: int | None = None
        county: str | None = None
        if role is Role.LIAISON:
            wanted = form.liaison_point.strip()
            point = await self.store.liaison_point_by_name(wanted)
            if point is None and wanted.isascii() and wanted.isdigit() and len(wanted) <= 18:   # an id SQLite binds
                point = await self.store.liaison_point(int(wanted))
            if point is None:
                raise fail("liaison.point")
            for village in point.villages:
                if region_scope_error(actor, village):
                    raise fail("scope.county" if actor.role is Role.OFFICER else "scope.role")
            point_id = point.id
        if role is Role.OFFICER:
            code = form.county.strip().ljust(12, "0") if form.county.strip().isdigit() else ""
            region = self.tree.get(code) if code else None
            if region is None or region.level is not Level.COUNTY:
                raise fail("officer.county")
            county = region.code
        return point_id, county

    async def prepare(self, actor: Actor, form: RegistrationForm) -> Prepared:
        """Validate and scope a registration without writing anything."""
        try:
            role = Role(form.role.strip() or "farmer")
        except ValueError:
            raise fail("role.invalid") from None
        if not actor.is_staff:
            raise fail("scope.role")
        name = validate_name(form.name)
        id_number = validate_id_number(form.id_number, self.clock.now().date())
        phone = validate_mobile(form.phone)
        village = self.resolve_village(actor, form.village)
        problem = scope_error(actor, village, role)
        if problem:
            raise fail(problem)
        point_id, county = await self._staff_fields(actor, form, role)
        new = NewUser(
            name=name, phone=phone, id_cipher=self.vault.seal(id_number),
            id_hash=self.vault.lookup_hash(id_number), id_masked=mask_id(id_number), village_code=village,
            role=role, registered_by=actor.user_id, liaison_point_id=point_id, county_code=county,
            interests=self.canonical_interests(form.interests), at=self.clock.now(),
        )
        return Prepared(new, self.tree.display(village), id_number)

    async def check_unique(self, reads: Reads, new: NewUser) -> None:
        """Refuse a second account for the same ID number or phone, naming the existing one."""
        for code, existing in (("duplicate.id", await reads.user_by_id_hash(new.id_hash)),
                               ("duplicate.phone", await reads.user_by_phone(new.phone))):
            if existing is not None:
                summary = f"{mask_name(existing.name)} {mask_phone(existing.phone)}"
                raise fail(code, masked=summary, user_id=existing.id)

    async def insert_prepared(self, tx: Tx, actor: Actor, prepared: Prepared) -> int:
        """Write a prepared registration and its record event inside an open transaction."""
        await self.check_unique(tx, prepared.new)
        user_id = await tx.insert_user(prepared.new)
        detail = {"by": actor.user_id, "role": prepared.new.role.value, "village": prepared.new.village_code}
        await tx.append_record(NewRecord(
            kind="event", channel=actor.channel.value, at=prepared.new.at, user_id=user_id,
            text="register", detail=json.dumps(detail, ensure_ascii=False),
        ))
        return user_id

    async def register(self, actor: Actor, form: RegistrationForm) -> User:
        """Validate, scope and store one registration; raise ValidationError with the reason."""
        prepared = await self.prepare(actor, form)
        async with self.store.transaction() as tx:
            user_id = await self.insert_prepared(tx, actor, prepared)
            user = await tx.get_user(user_id)
        assert user is not None
        return user

    async def find(self, phone: str) -> User:
        """Look a user up by phone, or raise 'user.not_found'."""
        try:
            phone = validate_mobile(phone)
        except ValidationError:
            raise fail("user.not_found") from None
        user = await self.store.user_by_phone(phone)
        if user is None:
            raise fail("user.not_found")
        return user

    async def update(self, actor: Actor, phone: str, **changes: Any) -> User:
        """Edit a user within the actor's scope (status, flagged, village, interests); record it."""
        user = await self.find(phone)
        problem = scope_error(actor, user.village_code, user.role)
        if "village" in changes:
            changes["village_code"] = self.resolve_village(actor, str(changes.pop("village")))
            problem = problem or region_scope_error(actor, changes["village_code"])
        if problem:
            raise fail(problem)
        interests = changes.pop("interests", None)
        if "status" in changes:
            changes["status"] = UserStatus(changes["status"])
        now = self.clock.now()
        async with self.store.transaction() as tx:
            if changes:
                await tx.update_user(user.id, now, **changes)
            if interests is not None:
                await tx.set_interests(user.id, self.canonical_interests(tuple(interests)))
            detail = {k: str(v) for k, v in changes.items()} | ({"interests": interests} if interests else {})
            await tx.append_record(NewRecord(
                kind="event", channel=actor.channel.value, at=now, user_id=user.id, text="update",
                detail=json.dumps({"by": actor.user_id, **detail}, ensure_ascii=False),
            ))
            updated = await tx.get_user(user.id)
        assert updated is not None
        return updated

    def view(self, viewer: Actor, user: User) -> dict[str, object]:
        """A user as the viewer may see them: ID always masked, phone masked for non-staff."""
        return {
            "id": user.id, "name": user.name,
            "phone": user.phone if can_see_phones(viewer) else mask_phone(user.phone),
            "id_number": user.id_masked, "village_code": user.village_code,
            "village": self.tree.display(user.village_code, Level.COUNTY), "role": user.role.value,
            "status": user.status.value, "registered_by": user.registered_by,
            "liaison_point_id": user.liaison_point_id, "county_code": user.county_code,
            "flagged": user.flagged, "interests": list(user.interests),
            "created_at": to_db(user.created_at), "updated_at": to_db(user.updated_at),
        }

    async def export_unmasked(self, actor: Actor, reason: str) -> list[dict[str, object]]:
        """Admin-only export with clear ID numbers; the export itself goes into the record."""
        if actor.role is not Role.ADMIN or not reason.strip():
            raise fail("scope.role")
        rows: list[dict[str, object]] = []
        after = 0
        while page := await self.store.list_users(after):
            for user in page:
                cipher = await self.store.id_cipher(user.id)
                rows.append(self.view(actor, user) | {"id_number": self.vault.open(cipher or b"")})
            after = page[-1].id
        async with self.store.transaction() as tx:
            await tx.append_record(NewRecord(
                kind="event", channel=actor.channel.value, at=self.clock.now(), user_id=actor.user_id,
                text="export_unmasked", detail=json.dumps({"rows": len(rows), "reason": reason}, ensure_ascii=False),
            ))
        return rows

    async def create_liaison_point(self, actor: Actor, name: str, villages: list[str]) -> int:
        """Create a liaison point over villages within the actor's area (officers, admins)."""
        if actor.role not in (Role.OFFICER, Role.ADMIN):
            raise fail("scope.role")
        codes = [self.resolve_village(actor, v) for v in villages]
        for code in codes:
            if problem := region_scope_error(actor, code):
                raise fail(problem)
        async with self.store.transaction() as tx:
            point_id = await tx.insert_liaison_point(name.strip(), codes, self.clock.now())
            await tx.append_record(NewRecord(
                kind="event", channel=actor.channel.value, at=self.clock.now(), user_id=actor.user_id,
                text="liaison_point", detail=json.dumps({"id": point_id, "name": name, "villages": codes}),
            ))
        return point_id

    async def issue_token(self, actor: Actor, phone: str, label: str = "") -> str:
        """Issue an API token for a staff user (admins, or the operator); return it once."""
        user = await self.find(phone)
        if actor.role is not Role.ADMIN or not user.role.is_staff:
            raise fail("scope.role")
        token = "fm_" + secrets.token_urlsafe(32)
        async with self.store.transaction() as tx:
            await tx.insert_token(token_hash(token), user.id, label, self.clock.now())
            await tx.append_record(NewRecord(
                kind="event", channel=actor.channel.value, at=self.clock.now(), user_id=user.id,
                text="token_issued", detail=json.dumps({"by": actor.user_id, "label": label}),
            ))
        return token

    async def user_for_token(self, token: str) -> User | None:
        """The active staff user behind a bearer token."""
        user = await self.store.user_by_token(token_hash(token))
        if user is None or not user.role.is_staff or user.status is not UserStatus.ACTIVE:
            return None
        return user
