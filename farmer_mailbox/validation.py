"""Checks on what staff type in: resident ID numbers (GB 11643-1999) and mainland mobiles.

Each failure has its own code and message, so a liaison knows which digit to look at.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers
from stdnum import numdb
from stdnum.cn import ric

from farmer_mailbox import wording


class ValidationError(ValueError):
    """Input refused; `code` is stable for programs, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _clean(text: str) -> str:
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text))


def _birth_place_known(prefix: str) -> bool:
    """True when the 6-digit prefix names a county in the GB/T 2260 table, in any era.

    python-stdnum's own check also requires the county to have existed in the birth year, but
    the prefix records where the number was issued, often years after birth (慈溪市 330282
    dates from 1989, yet residents born in 1980 hold 330282 numbers), so we do not.
    """
    info = {k: v for _part, props in numdb.get("cn/loc").info(prefix) for k, v in props.items()}
    return "county" in info


def validate_id_number(text: str, today: date) -> str:
    """Return the normalised 18-character ID number or raise ValidationError saying why."""
    number = _clean(text).upper()
    if len(number) != 18:
        raise ValidationError("id.length", wording.ERRORS["id.length"])
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError("id.format", wording.ERRORS["id.format"])
    try:
        born = ric.get_birth_date(number)
    except Exception:
        raise ValidationError("id.birth_date", wording.ERRORS["id.birth_date"]) from None
    if born > today or today.year - born.year > 120:
        raise ValidationError("id.birth_date", wording.ERRORS["id.birth_date"])
    if not _birth_place_known(number[:6]):
        raise ValidationError("id.region", wording.ERRORS["id.region"])
    if number[17] != ric.calc_check_digit(number):
        raise ValidationError("id.checksum", wording.ERRORS["id.checksum"])
    return number


def validate_mobile(text: str) -> str:
    """Return an 11-digit mainland mobile number or raise ValidationError saying why."""
    cleaned = _clean(text)
    try:
        parsed = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError("phone.format", wording.ERRORS["phone.format"]) from None
    if parsed.country_code != 86:
        raise ValidationError("phone.country", wording.ERRORS["phone.country"])
    national = str(parsed.national_number)
    if len(national) != 11 or not national.startswith("1"):
        raise ValidationError("phone.not_mobile", wording.ERRORS["phone.not_mobile"])
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError("phone.invalid", wording.ERRORS["phone.invalid"])
    kind = phonenumbers.number_type(parsed)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise ValidationError("phone.not_mobile", wording.ERRORS["phone.not_mobile"])
    return national


def sms_address(sender: str) -> str:
    """The address an SMS came from, a mainland mobile as its 11 digits.

    Providers write senders differently: Twilio always in E.164 (+8613912345678), Kannel as the
    SMSC hands them over (8613912345678, 008613912345678, with spaces or dashes). Accounts are keyed
    by the 11 digits, so every form is brought to them once, where messages come in. Other senders
    (foreign numbers, short codes) are kept as they came, trimmed.
    """
    if len(sender) == 11 and sender.isascii() and sender.isdigit() and sender[0] == "1":
        return sender   # already the 11 digits (every lookup after the inbox stored it so)
    cleaned = _clean(sender)
    try:
        parsed = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException:
        return sender.strip()
    national = str(parsed.national_number)
    if parsed.country_code == 86 and len(national) == 11 and national.startswith("1"):
        return national
    return sender.strip()


# How people type the middle dot of minority names (阿依古丽·买买提): all become "·" (U+00B7).
_NAME_DOTS = str.maketrans({c: "·" for c in "・•‧∙⋅●.．"})
NAME_LENGTH = (2, 20)


def _is_han(ch: str) -> bool:
    """A Chinese character (any CJK ideograph block, extensions included) or 〇."""
    return ch == "〇" or unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


def validate_name(text: str) -> str:
    """Return a real name as on the ID card, or raise ValidationError.

    Chinese characters (rare ones in the CJK extensions too), with · between the parts of a
    minority name; 2-20 characters. Spaces people put inside (张　三, aligned in forms) and
    invisible marks pasted along are dropped; the usual stand-ins for · (・ • . ．) are read as ·.
    """
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).translate(_NAME_DOTS)
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")   # zero-width marks pasted along
    parts = name.split("·")
    low, high = NAME_LENGTH
    if not low <= len(name) <= high or not all(parts) or not all(_is_han(ch) for ch in "".join(parts)):
        raise ValidationError("name.invalid", wording.ERRORS["name.invalid"])
    return name


def id_check_digit(first17: str) -> str:
    """Compute the GB 11643-1999 check character for 17 digits (used for demo data and tests)."""
    return ric.calc_check_digit(first17 + "0")
