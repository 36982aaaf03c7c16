"""SQL for real-name users, liaison points and staff API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from farmer_mailbox.clock import from_db, to_db
from farmer_mailbox.models import LiaisonPoint, Role, User, UserStatus
from farmer_mailbox.store.base import SqlBase

_USER_COLUMNS = (
    "id, name, phone, id_masked, village_code, role, status, registered_by, liaison_point_id, "
    "county_code, flagged, created_at, updated_at"
)


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user about to be inserted; the ID number arrives sealed and hashed, never in clear."""

    name: str
    phone: str
    id_cipher: bytes
    id_hash: str
    id_masked: str
    village_code: str
    role: Role
    registered_by: int | None
    liaison_point_id: int | None
    county_code: str | None
    interests: tuple[str, ...]
    at: datetime


def _user(row: aiosqlite.Row, interests: tuple[str, ...]) -> User:
    return User(
        id=row["id"], name=row["name"], phone=row["phone"], id_masked=row["id_masked"],
        village_code=row["village_code"], role=Role(row["role"]), status=UserStatus(row["status"]),
        registered_by=row["registered_by"], liaison_point_id=row["liaison_point_id"],
        county_code=row["county_code"], flagged=bool(row["flagged"]),
        created_at=from_db(row["created_at"]), updated_at=from_db(row["updated_at"]),
        interests=interests,
    )


# A user's row with the products they follow, sorted, joined by U+001F (one query, no second trip).
_USERS_WITH_INTERESTS = (
    f"SELECT {_USER_COLUMNS}, (SELECT group_concat(product, char(31)) FROM (SELECT product FROM "
    "user_interests WHERE user_id = users.id ORDER BY product)) AS interest_list FROM users"
)


def _user_with_interests(row: aiosqlite.Row) -> User:
    listed = row["interest_list"]
    return _user(row, tuple(listed.split("\x1f")) if listed else ())


class UserReads(SqlBase):
    """User, liaison point and token queries."""

    async def _user_where(self, where: str, params: Sequence[object]) -> User | None:
        row = await self._one(f"{_USERS_WITH_INTERESTS} WHERE {where}", params)
        return None if row is None else _user_with_interests(row)

    async def interests_of(self, user_id: int) -> tuple[str, ...]:
        """The products a user follows, sorted."""
        rows = await self._all(
            "SELECT product FROM user_interests WHERE user_id = ? ORDER BY product", (user_id,)
        )
        return tuple(r[0] for r in rows)

    async def get_user(self, user_id: int) -> User | None:
        """One user by id."""
        return await self._user_where("id = ?", (user_id,))

    async def user_by_phone(self, phone: str) -> User | None:
        """One user by 11-digit mobile number."""
        return await self._user_where("phone = ?", (phone,))

    async def user_id_by_phone(self, phone: str) -> int | None:
        """The id of the user with this 11-digit mobile number, if any (no other column read)."""
        found = await self._value("SELECT id FROM users WHERE phone = ?", (phone,))
        return int(found) if found is not None else None

    async def users_by_phones(self, phones: Sequence[str]) -> dict[str, User]:
        """The users with these 11-digit mobile numbers, by number (one query; unknown ones left out)."""
        wanted = sorted(set(phones))
        if not wanted:
            return {}
        rows = await self._all(f"{_USERS_WITH_INTERESTS} WHERE phone IN ({','.join('?' * len(wanted))})", wanted)
        return {r["phone"]: _user_with_interests(r) for r in rows}

    async def user_by_id_hash(self, id_hash: str) -> User | None:
        """One user by the keyed hash of their ID number."""
        return await self._user_where("id_hash = ?", (id_hash,))

    async def user_by_token(self, token_hash: str) -> User | None:
        """The staff user holding an unrevoked API token."""
        return await self._user_where(
            "id = (SELECT user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL)",
            (token_hash,),
        )

    async def id_cipher(self, user_id: int) -> bytes | None:
        """The sealed ID number of a user (for the audited export only)."""
        value = await self._value("SELECT id_cipher FROM users WHERE id = ?", (user_id,))
        return bytes(value) if value is not None else None

    async def list_users(self, after_id: int = 0, limit: int = 1000) -> list[User]:
        """A page of users in id order (interests not loaded)."""
        rows = await self._all(
            f"SELECT {_USER_COLUMNS} FROM users WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
        )
        return [_user(r, ()) for r in rows]

    async def count_users(self) -> int:
        """How many users are registered."""
        return int(await self._value("SELECT COUNT(*) FROM users"))

    async def liaison_point(self, point_id: int) -> LiaisonPoint | None:
        """One liaison point with its villages."""
        row = await self._one("SELECT id, name FROM liaison_points WHERE id = ?", (point_id,))
        if row is None:
            return None
        villages = await self._all(
            "SELECT village_code FROM liaison_point_villages WHERE point_id = ? ORDER BY village_code",
            (point_id,),
        )
        return LiaisonPoint(row["id"], row["name"], tuple(v[0] for v in villages))

    async def liaison_point_by_name(self, name: str) -> LiaisonPoint | None:
        """One liaison point by its unique name."""
        point_id = await self._value("SELECT id FROM liaison_points WHERE name = ?", (name,))
        return await self.liaison_point(int(point_id)) if point_id is not None else None

    async def list_liaison_points(self) -> list[LiaisonPoint]:
        """All liaison points."""
        ids = await self._all("SELECT id FROM liaison_points ORDER BY id")
        return [p for r in ids if (p := await self.liaison_point(r[0])) is not None]


class UserWrites(SqlBase):
    """User, liaison point and token changes."""

    async def insert_user(self, new: NewUser) -> int:
        """Insert a user and their interests; return the new id."""
        at = to_db(new.at)
        user_id = await self._insert(
            "INSERT INTO users (name, phone, id_cipher, id_hash, id_masked, village_code, role, "
            "registered_by, liaison_point_id, county_code, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new.name, new.phone, new.id_cipher, new.id_hash, new.id_masked, new.village_code,
             new.role.value, new.registered_by, new.liaison_point_id, new.county_code, at, at),
        )
        await self.set_interests(user_id, new.interests)
        return user_id

    async def set_interests(self, user_id: int, products: Sequence[str]) -> None:
        """Replace a user's followed products."""
        await self._exec("DELETE FROM user_interests WHERE user_id = ?", (user_id,))
        await self._many(
            "INSERT OR IGNORE INTO user_interests (user_id, product) VALUES (?, ?)",
            [(user_id, p) for p in products],
        )

    async def update_user(self, user_id: int, at: datetime, **changes: object) -> None:
        """Change some of a user's columns (name, phone, village_code, role, status, flagged...)."""
        allowed = {"name", "phone", "village_code", "role", "status", "flagged", "liaison_point_id",
                   "county_code"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        assignments = ", ".join(f"{k} = ?" for k in changes)
        values = [v.value if isinstance(v, Role | UserStatus) else v for v in changes.values()]
        await self._exec(
            f"UPDATE users SET {assignments}, updated_at = ? WHERE id = ?", (*values, to_db(at), user_id)
        )

    async def insert_liaison_point(self, name: str, villages: Sequence[str], at: datetime) -> int:
        """Create a liaison point covering villages; return its id."""
        point_id = await self._insert(
            "INSERT INTO liaison_points (name, created_at) VALUES (?, ?)", (name, to_db(at))
        )
        await self._many(
            "INSERT INTO liaison_point_villages (point_id, village_code) VALUES (?, ?)",
            [(point_id, v) for v in villages],
        )
        return point_id

    async def insert_token(self, token_hash: str, user_id: int, label: str, at: datetime) -> None:
        """Store the hash of a new API token for a staff user."""
        await self._exec(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES (?, ?, ?, ?)",
            (token_hash, user_id, label, to_db(at)),
        )

    async def revoke_tokens(self, user_id: int, at: datetime) -> int:
        """Revoke every token of a user; return how many."""
        return await self._exec(
            "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            (to_db(at), user_id),
        )
