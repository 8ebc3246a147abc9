import os
import sys
from pathlib import Path

from hypothesis import settings

# Exact references (tests/ising_reference.py) are imported as a plain module.
sys.path.insert(0, str(Path(__file__).parent))

# CI runs a fixed set of examples, so its run time and verdict are reproducible; locally each
# run explores new examples (that is how the Wolff stack overflow for J < 0 was found).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
