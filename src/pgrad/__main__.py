"""``python -m pgrad``: the same as the ``pgrad`` command."""

import sys

from pgrad.cli import main

sys.exit(main())
