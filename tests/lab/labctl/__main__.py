# SPDX-License-Identifier: GPL-3.0-or-later
"""python3 -m labctl (tests/lab/lab runs it): the lab's command line."""

import sys

from .cli import main

sys.exit(main())
