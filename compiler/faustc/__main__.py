"""`python -m faustc` is the `faustc` command."""

from faustc.cli import main

main()
