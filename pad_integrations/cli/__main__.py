"""``python -m pad_integrations.cli``: the ``pad`` command."""

import sys

from pad_integrations.cli.main import main

sys.exit(main())
