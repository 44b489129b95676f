"""`python -m index` builds or updates the index, like `eventbot build`."""

import sys

from bot.cli import main

sys.exit(main(["build", *sys.argv[1:]]))
