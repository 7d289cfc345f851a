import sys

from mlpkit.cli import run

sys.exit(run())
