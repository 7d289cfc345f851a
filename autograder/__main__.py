import sys

from autograder.cli import run

sys.exit(run())
