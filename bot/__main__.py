"""`python -m bot` runs the command line."""

import sys

from bot.cli import main

sys.exit(main())
