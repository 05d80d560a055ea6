"""``python -m npcore``: the same as the ``npcore`` command."""

from npcore.cli import main

raise SystemExit(main())
