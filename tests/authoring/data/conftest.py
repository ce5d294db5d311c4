"""Course folders used as test data; the exercises' tests inside them are not ours to run."""

collect_ignore_glob = ["*"]
