"""`python -m alembic_heads_bot` runs the command line."""

import sys

from alembic_heads_bot.app.cli import main

sys.exit(main())
