"""The marketplace: postings, matching against the in-memory book, and the conversation around it.

`core.Market` holds the book and settings; `posting` stores and matches new postings, `contact`
handles LX / Y / N / HF, `mine` handles WD / CX / XQ / JG, `upkeep` expires and reminds, `staff`
is what liaisons do (approve, hide). `texts`, `prices` and `moderation` are pure.
"""
