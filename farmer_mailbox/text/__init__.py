"""Text understanding for farmer-mailbox: read what farmers text (pure: no I/O but packaged data).

`parse(text)` turns "卖优质葡萄苗五百株每株3元 杨高村" into an intent, postings (product, amount,
price, quality, place), a command, and phone numbers. Place names are resolved through an
injected `PlaceResolver`, since the region tree lives elsewhere.
"""

from farmer_mailbox.text.models import Command, Intent, Location, ParseResult, PlaceResolver, Posting, Side
from farmer_mailbox.text.parser import parse

__all__ = ["Command", "Intent", "Location", "ParseResult", "PlaceResolver", "Posting", "Side", "parse"]
