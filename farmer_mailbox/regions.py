"""The region tree (province > city > county > town > village) and free-text place names.

Regions are keyed by their 12-digit statistical code; the level follows from how many leading
digits are significant. Files come in the NBS/modood CSV shapes (or a generic code,name,parent
CSV); the tree answers "which region is 横河" preferring the sender's own county, and says
"ambiguous" rather than guess across counties.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from farmer_mailbox.models import CODE_DIGITS, Level, Region

_LEVEL_BY_DIGITS = {digits: level for level, digits in CODE_DIGITS.items()}
_PARENT_COLUMN = {"provinceCode": 2, "cityCode": 4, "areaCode": 6, "streetCode": 9}
PACKAGED_FILES = (
    "provinces.csv",
    "cities.csv",
    "areas.csv",
    "streets.csv.gz",
    "villages.subset.csv",
)

_SUFFIXES: dict[Level, tuple[str, ...]] = {
    Level.PROVINCE: ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市"),
    Level.CITY: ("自治州", "地区", "盟", "市"),
    Level.COUNTY: ("自治县", "自治旗", "林区", "特区", "县", "区", "市", "旗"),
    Level.TOWN: ("民族乡", "街道办事处", "街道", "办事处", "苏木", "镇", "乡"),
    Level.VILLAGE: ("村民委员会", "居民委员会", "村委会", "居委会", "委员会", "委会", "村", "社区"),
}
_PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


class RegionFileError(ValueError):
    """A region file we cannot read; the message names the line."""


def normalise_code(code: str) -> tuple[str, Level]:
    """Pad a 2/4/6/9/12-digit code to 12 digits and tell its level."""
    code = code.strip()
    if not code.isdigit() or len(code) not in _LEVEL_BY_DIGITS:
        raise ValueError(f"not a region code: {code!r}")
    return code.ljust(12, "0"), _LEVEL_BY_DIGITS[len(code)]


def level_of(code12: str) -> Level:
    """Tell the level of a 12-digit code from its trailing zeros."""
    for level in (Level.VILLAGE, Level.TOWN, Level.COUNTY, Level.CITY):
        digits = CODE_DIGITS[level]
        prev = CODE_DIGITS[Level(level - 1)]
        if code12[prev:digits].strip("0") and not code12[digits:].strip("0"):
            return level
    return Level.PROVINCE


def short_name(name: str, level: Level) -> str:
    """Drop the administrative suffix farmers leave out: 横河镇 → 横河, 杨高村委会 → 杨高村."""
    if level is Level.VILLAGE:
        for tail, keep in (("村民委员会", "村"), ("村委会", "村"), ("居民委员会", ""), ("居委会", "")):
            if name.endswith(tail) and len(name) - len(tail) >= 2:
                return name[: -len(tail)] + keep
        return name
    for suffix in _SUFFIXES[level]:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def aliases(region: Region) -> set[str]:
    """All the names a farmer might use for a region (full, short, and bare stem)."""
    if region.name in _PLACEHOLDER_NAMES:
        return set()
    names = {region.name, region.short_name}
    for suffix in _SUFFIXES[region.level]:
        for base in (region.name, region.short_name):
            if base.endswith(suffix) and len(base) - len(suffix) >= 2:
                names.add(base[: -len(suffix)])
    return {n for n in names if len(n) >= 2}


def _parent_of(row: dict[str, str], code12: str, level: Level) -> str | None:
    if level is Level.PROVINCE:
        return None
    if row.get("parent"):
        return normalise_code(row["parent"])[0]
    want = CODE_DIGITS[Level(level - 1)]
    for column, digits in _PARENT_COLUMN.items():
        if digits == want and row.get(column):
            return normalise_code(row[column])[0]
    return code12[:want].ljust(12, "0")


def read_region_rows(stream: Iterable[str], source: str = "<file>") -> Iterator[Region]:
    """Read regions from a CSV with columns code,name and optionally parent or NBS parent codes."""
    reader = csv.DictReader(stream)
    if not reader.fieldnames or "code" not in reader.fieldnames or "name" not in reader.fieldnames:
        raise RegionFileError(f"{source}: expected a header with at least code,name")
    for line_no, row in enumerate(reader, start=2):
        try:
            code12, level = normalise_code(row["code"] or "")   # None: a row shorter than the header
            name = (row["name"] or "").strip()
            if not name:
                raise ValueError("empty name")
            parent = _parent_of(row, code12, level)
        except (ValueError, AttributeError) as exc:
            raise RegionFileError(f"{source} line {line_no}: {exc}") from None
        yield Region(code12, name, level, parent, short_name(name, level))


def open_region_file(path: Path) -> io.TextIOBase:
    """Open a region CSV, transparently un-gzipping `.gz` files."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def packaged_region_files() -> list[Path]:
    """The region files shipped with the package, in parent-before-child order."""
    base = resources.files("farmer_mailbox") / "data" / "regions"
    return [Path(str(base / name)) for name in PACKAGED_FILES]


def count_lines(path: Path) -> int:
    """Count data rows in a region file (for progress bars; bytes, so any file can be counted)."""
    with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
        return max(sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b"")) - 1, 0)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving a place name: one region, several (ambiguous), or none."""

    mention: str
    region: Region | None
    candidates: tuple[Region, ...] = ()

    @property
    def ambiguous(self) -> bool:
        """True when the name fits several regions and none could be preferred."""
        return self.region is None and len(self.candidates) > 1


class RegionTree:
    """All regions in memory, with a name index for resolving what farmers write."""

    def __init__(self, regions: Iterable[Region]) -> None:
        self._by_code: dict[str, Region] = {}
        self._by_alias: dict[str, list[str]] = {}
        for region in regions:
            self.add(region)

    def add(self, region: Region) -> None:
        """Add or replace one region."""
        self._by_code[region.code] = region
        for alias in aliases(region):
            codes = self._by_alias.setdefault(alias, [])
            if region.code not in codes:
                codes.append(region.code)

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def regions(self) -> Iterator[Region]:
        """Every region in the tree."""
        return iter(self._by_code.values())

    def get(self, code: str) -> Region | None:
        """Return the region with this 12-digit code."""
        return self._by_code.get(code)

    def path(self, code: str) -> list[Region]:
        """Return the regions from the province down to `code`."""
        chain: list[Region] = []
        region = self._by_code.get(code)
        while region is not None:
            chain.append(region)
            region = self._by_code.get(region.parent) if region.parent else None
        return chain[::-1]

    def display(self, code: str, top: Level = Level.TOWN) -> str:
        """Name a region for an SMS: its short name below `top` joined (横河镇杨高村)."""
        parts = [r.short_name if r.level is Level.VILLAGE else r.name for r in self.path(code)]
        levels = [r.level for r in self.path(code)]
        return "".join(p for p, lv in zip(parts, levels, strict=True) if lv >= top)

    def known_names(self) -> Iterator[str]:
        """Every alias in the index (to teach a segmenter place names)."""
        return iter(self._by_alias)

    def _lookup(self, name: str, within: str | None = None) -> list[Region]:
        codes = self._by_alias.get(name, [])
        found = [self._by_code[c] for c in codes]
        if within is not None:
            found = [r for r in found if is_within(r.code, within) and r.code != within]
        return found

    def _candidates(self, mention: str, within: str | None = None) -> list[Region]:
        direct = self._lookup(mention, within)
        if direct:
            return direct
        found: list[Region] = []
        for cut in range(2, len(mention) - 1):
            for head in self._lookup(mention[:cut], within):
                found.extend(self._candidates(mention[cut:], head.code))
        return list({r.code: r for r in found}.values())

    def resolve(self, mention: str, home_code: str | None = None) -> Resolution:
        """Resolve a place name, preferring the home county; ambiguous across counties."""
        mention = re.sub(r"\s+", "", mention)
        candidates = self._candidates(mention)
        return Resolution(mention, choose(candidates, home_code), tuple(candidates))


def is_within(code: str, ancestor: str) -> bool:
    """True when `code` lies in the subtree of `ancestor` (both 12-digit codes)."""
    digits = CODE_DIGITS[level_of(ancestor)]
    return code[:digits] == ancestor[:digits]


def _outermost(regions: list[Region]) -> Region | None:
    """The one region that contains all the others, if there is one."""
    top = min(regions, key=lambda r: r.level)
    if all(r is top or is_within(r.code, top.code) for r in regions):
        return top
    levels = sorted(r.level for r in regions)
    if levels.count(levels[0]) == 1:
        return top
    return None


def choose(candidates: list[Region], home_code: str | None) -> Region | None:
    """Pick one region: the only one, else within the home town or county, else none.

    Across counties only a lone province or city wins (北京 is 北京市, not 北京街道 in 广州).
    """
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    if home_code:
        for level in (Level.TOWN, Level.COUNTY):
            home = home_code[: CODE_DIGITS[level]].ljust(12, "0")
            near = [r for r in candidates if is_within(r.code, home)]
            if len(near) == 1:
                return near[0]
            if near:
                return _outermost(near)
    counties = {r.code[:6] for r in candidates}
    if len(counties) == 1:
        return _outermost(candidates)
    big = [r for r in candidates if r.level <= Level.CITY]
    return big[0] if len(big) == 1 else None
