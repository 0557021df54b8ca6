"""``python -m ganlab ...`` is the same as the ``ganlab`` command."""

import sys

from .cli import main

sys.exit(main())
