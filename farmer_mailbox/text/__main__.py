"""`python -m farmer_mailbox.text`: the parse command without a place resolver."""

from farmer_mailbox.text.cli import main

raise SystemExit(main())
