# Shared CI settings, sourced by .ci/run, scripts/lock and scripts/check-newest.
# Edit here, not in the scripts: one line per setting keeps parallel branches' merges simple.

# Extras every CI venv installs and scripts/lock pins (comma-separated; add yours at the end).
CI_EXTRAS="dev,cli,postgres,export,dask"

# Scripts under .ci/ that start a service the tests need (space-separated, e.g. "postgres").
# .ci/run sources each one (under set -euo pipefail; a failing command fails CI, so do not call
# `exit`) after the main venv exists and before any suite runs, so its exports reach pytest.
CI_SERVICES="postgres"

# Pythons the project claims besides the main one (python3, 3.11): .ci/run tests each that exists
# under pyenv and says which it skipped. Keep pyproject's classifiers in step.
CI_PYTHONS="3.12 3.13"
