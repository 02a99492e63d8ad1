"""``python -m gcseg``: see :mod:`gcseg.cli`."""

from gcseg.cli import main

raise SystemExit(main())
