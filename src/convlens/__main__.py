"""`python -m convlens`: the same command line as `convlens`."""

from convlens.cli import main

raise SystemExit(main())
