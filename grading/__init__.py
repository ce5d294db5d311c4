"""The grading host: runs the engine (sandbox) for jobs that arrive through the broker.

A grading host needs the broker and a Docker engine, nothing else: no database, no shared
disk, no course content. This package imports no Django.
"""
