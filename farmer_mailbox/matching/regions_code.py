"""Region codes (统计用区划代码, 12 digits) and the distance between two of them.

Levels. A code has five levels, each a fixed prefix of its digits: province [0:2], city [0:4],
county [0:6], town [0:9], village [0:12]. 330282123222 (杨高村) lies in town 330282123 (龙山镇),
county 330282 (慈溪市), city 3302 (宁波市), province 33 (浙江省).

Depth. When a poster's village (or town) is unknown, the code is padded with zeros: 330282114000
is 横河镇 itself, 330282000000 is 慈溪市 itself. A code's depth is the number of levels up to its
last non-zero segment: 5 for a village, 4 for a town, 3 for a county, 2 for a city, 1 for a
province. A zero segment followed by a non-zero one is part of a real code, not padding: 东莞
(4419) has no counties, so its towns are 441900xxx and the county segment "00" counts as a level.

Distance. Two codes are compared level by level, over the levels both define only (the smaller
depth). `common` is the number of leading levels on which they agree, and
``distance = 5 - common``: same village 0, same town 1, same county 2, same city 3, same province
4, different province 5. So a town-only code is at distance 1 from every village of that town and
from itself, and a county-only code is at distance 2 from everything in that county: the unknown
part never counts as a match nor as a mismatch.
"""

from __future__ import annotations

from functools import cache

LEVELS = 5
"""Number of levels below the country: province, city, county, town, village."""

LEVEL_ENDS = (2, 4, 6, 9, 12)
"""Length of the prefix that names each level, province first."""

CODE_LENGTH = 12


@cache
def region_prefixes(code: str) -> tuple[str, ...]:
    """The prefixes naming each level a code defines, province first (its depth is the length)."""
    if len(code) != CODE_LENGTH or not (code.isascii() and code.isdigit()):
        raise ValueError(f"region code must be 12 ASCII digits, got {code!r}")
    depth = _depth(code)
    if depth == 0:
        raise ValueError(f"region code names no province: {code!r}")
    return tuple(code[:end] for end in LEVEL_ENDS[:depth])


def _depth(code: str) -> int:
    """Number of levels up to the last segment that is not all zeros."""
    significant = len(code.rstrip("0"))
    if significant == 0:
        return 0
    return next(depth for depth, end in enumerate(LEVEL_ENDS, start=1) if significant <= end)


def region_depth(code: str) -> int:
    """How many levels a code defines: 5 for a village, 4 for a zero-padded town code, ..."""
    return len(region_prefixes(code))


def region_distance(a: str, b: str) -> int:
    """Levels up to the common ancestor (0 same village ... 5 different province), see module doc."""
    common = 0
    for x, y in zip(region_prefixes(a), region_prefixes(b), strict=False):
        if x != y:
            break
        common += 1
    return LEVELS - common


def padded(prefix: str) -> str:
    """The 12-digit code of a level prefix, e.g. '330282' -> '330282000000'."""
    return prefix.ljust(CODE_LENGTH, "0")
