"""The CLI takes Ctrl-C back when started with SIGINT ignored (issue 16), as background jobs
and some process managers start children; independent of how pytest itself was started."""

from __future__ import annotations

import signal
import subprocess
import sys

from ._cli_helpers import cli_env

# Ignore SIGINT, then exec the CLI: an ignored signal stays ignored across exec.
IGNORING = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, '-m', 'gladia_async', *sys.argv[1:]])"
)


def test_ctrl_c_stops_a_cli_started_with_sigint_ignored() -> None:
    argv = ["fake-server", "--port", "0", "--jobs", "1", "--key", "k-1234"]
    proc = subprocess.Popen(
        [sys.executable, "-c", IGNORING, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"fake Gladia API")  # serving
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err  # fake-server ends quietly on Ctrl-C
    assert b"Traceback" not in err
