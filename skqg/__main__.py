"""``python -m skqg``: the same as the ``skqg`` command."""

import sys

from skqg.cli import main

if __name__ == "__main__":
    sys.exit(main())
