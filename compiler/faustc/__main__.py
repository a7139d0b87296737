"""`python -m faustc` is the `faustc` command."""

from faustc.launcher import main

main()
