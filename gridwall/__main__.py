"""``python -m gridwall``: the command line, for where the ``gridwall`` script is not on the PATH."""

from gridwall.cli import main

main()
