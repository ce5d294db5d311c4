"""The grading harness: runs an exercise's hidden pytest tests against a learner's running app.

It runs on the worker, outside the learner's container, in a process started by
sandbox.runner: a child of the worker's fork server (sandbox/harness/forkserver.py), or else
``python -m sandbox.harness``. The tests reach the app over its Unix socket
through the `client` fixture; see sandbox/harness/grader.py for what test authors can use.
"""
