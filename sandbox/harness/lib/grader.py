"""What exercise tests import: ``from grader import expect``. See sandbox/harness/grader.py."""

from sandbox.harness.grader import *  # noqa: F403
from sandbox.harness.grader import __all__  # noqa: F401
