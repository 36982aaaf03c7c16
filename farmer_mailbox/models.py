"""Frozen dataclasses and enums of the domain: regions, users, liaison points, record entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import NamedTuple


class Level(IntEnum):
    """Depth in the region tree; the code length grows with it."""

    PROVINCE = 1
    CITY = 2
    COUNTY = 3
    TOWN = 4
    VILLAGE = 5


CODE_DIGITS = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWN: 9, Level.VILLAGE: 12}


class Role(StrEnum):
    """What a user may do: farmers post; staff register and broadcast within their scope."""

    FARMER = "farmer"
    LIAISON = "liaison"
    OFFICER = "officer"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        """True for liaisons, officers and admins."""
        return self is not Role.FARMER


class UserStatus(StrEnum):
    """Whether a user receives messages and may post."""

    ACTIVE = "active"
    OPTED_OUT = "opted_out"
    SUSPENDED = "suspended"


class Channel(StrEnum):
    """How a message travels."""

    SMS = "sms"
    WECHAT = "wechat"
    API = "api"
    CLI = "cli"


@dataclass(frozen=True, slots=True)
class Region:
    """One node of the region tree, keyed by its 12-digit statistical code."""

    code: str
    name: str
    level: Level
    parent: str | None
    short_name: str

    def ancestor_code(self, level: Level) -> str:
        """Return the 12-digit code of this region's ancestor at `level` (or itself)."""
        digits = CODE_DIGITS[level]
        return self.code[:digits].ljust(12, "0")


@dataclass(frozen=True, slots=True)
class User:
    """A real-name account. `id_masked` is the only form of the ID number outside exports."""

    id: int
    name: str
    phone: str
    id_masked: str
    village_code: str
    role: Role
    status: UserStatus
    registered_by: int | None
    liaison_point_id: int | None
    county_code: str | None
    flagged: bool
    created_at: datetime
    updated_at: datetime
    interests: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class LiaisonPoint:
    """A village liaison point (村级联络点) and the villages it covers."""

    id: int
    name: str
    villages: tuple[str, ...]


class RecordEntry(NamedTuple):
    """One entry of the tamper-evident message record (inbound, outbound or event).

    A NamedTuple: every sent message appends one, and a frozen dataclass costs several times more.
    """

    id: int
    at: datetime
    kind: str
    channel: str
    user_id: int | None
    address: str
    text: str
    gateway: str
    external_id: str
    detail: str
    prev_hash: str
    hash: str
