"""Run an exercise's tests against a learner's app: ``python -m sandbox.harness --help``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from sandbox.harness import limits

LIB_DIR = Path(__file__).resolve().parent / "lib"


def pytest_args(args: argparse.Namespace) -> list[str]:
    """Return the pytest command line for one grading run."""
    command = [
        str(args.tests),
        # The tests folder is all there is: no project configuration, no cache, no other plugins.
        "-c", os.devnull,
        "--rootdir", str(args.tests),
        # Nothing above it either. pytest would otherwise look for conftest.py files and
        # collect in every folder up to "/" (the -c file's folder is /dev): as nobody, it
        # cannot list the run folder (0711) and fails before the first test.
        "--confcutdir", str(args.tests),
        "-p", "no:cacheprovider",
        "-p", "sandbox.harness.plugin",
        "--strict-markers",
        "-q",
        "--tb=short",
        "--app-socket", str(args.socket),
        "--request-timeout", str(args.request_timeout),
        "--report", str(args.report),
    ]  # fmt: skip
    if args.basetemp is not None:
        command += ["--basetemp", str(args.basetemp)]
    if args.done_fd is not None:
        command += ["--done-fd", str(args.done_fd)]
    if args.wait_for_go:
        # pytest takes over stdin while it runs; the plugin reads "go" from a copy of it.
        command += ["--go-fd", str(os.dup(0))]
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.harness",
        description="Run an exercise's tests against a learner's app listening on a Unix socket.",
    )
    parser.add_argument("tests", type=Path, help="folder holding the exercise's tests")
    parser.add_argument("socket", type=Path, help="the app's Unix socket")
    parser.add_argument("report", type=Path, help="where to write the JSON report")
    parser.add_argument("--request-timeout", type=float, default=5.0)
    parser.add_argument(
        "--wait-for-go", action="store_true", help="collect, then wait for 'go' on stdin"
    )
    parser.add_argument(
        "--basetemp",
        type=Path,
        help="folder for the tests' tmp_path folders (emptied first; default: pytest's, in /tmp)",
    )
    parser.add_argument(
        "--done-fd", type=int, help="file descriptor to write 'done' to once the report is final"
    )
    limits.add_arguments(parser)
    args = parser.parse_args(argv)
    harness_limits = limits.HarnessLimits.from_args(args)
    if harness_limits is not None:
        # Before pytest reads a test: from here on, this process cannot lift them.
        limits.apply(harness_limits)
    # `from grader import expect` in exercise tests
    sys.path.insert(0, str(LIB_DIR))
    return int(pytest.main(pytest_args(args)))


if __name__ == "__main__":
    sys.exit(main())
