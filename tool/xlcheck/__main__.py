"""``python -m xlcheck``: the same command line as the ``xlcheck`` script."""

from xlcheck.cli import main

main()
