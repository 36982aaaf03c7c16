"""farmer-mailbox (农民信箱): farmers buy and sell by text message.

Real-name accounts on a region tree, postings understood from free Chinese, matching of supply
with demand, and bureau alerts, all through a durable outbox over pluggable SMS gateways.
"""

__version__ = "0.1.0"
