"""Files mounted read-only into the learner's container (at /opt/webcourse)."""
