"""``python -m bot.testing serve ...``: see ``bot.testing.cli``."""

import sys

from bot.testing.cli import main

sys.exit(main())
