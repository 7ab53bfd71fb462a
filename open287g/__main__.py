"""`python -m open287g` is the same as the `open287g` command."""

from open287g.cli import main

raise SystemExit(main())
