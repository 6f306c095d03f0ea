"""``python -m ordoro_sandbox``: the same as the ``ordoro-sandbox`` command."""

import sys

from ordoro_sandbox.cli import main

sys.exit(main())
