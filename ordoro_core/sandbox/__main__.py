"""``python -m ordoro_core.sandbox``: the same as the ``ordoro-sandbox`` command."""

import sys

from ordoro_core.sandbox.cli import main

sys.exit(main())
