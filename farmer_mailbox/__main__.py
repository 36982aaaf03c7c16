"""`python -m farmer_mailbox`: the same command line as `farmer-mailbox`."""

import sys

from farmer_mailbox.cli import main

sys.exit(main())
