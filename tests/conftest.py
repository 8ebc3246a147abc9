import sys
from pathlib import Path

# Exact references (tests/ising_reference.py) are imported as a plain module.
sys.path.insert(0, str(Path(__file__).parent))
