"""Kill a tool half-way, for the tests of crash-safe writers.

:func:`start_hanging` runs a script in a fresh interpreter where one
function (e.g. ``numpy.save``) hangs once it has returned for the ``n``-th
time, and touches a marker file then; :func:`wait_hanging` waits for that
marker, so a test can look at the files at a known point of the writing and
kill the process there (``SIGKILL``, as ``kill -9``: no ``finally``, no
clean-up) with :func:`kill`. Real tools on small data are too fast to be
caught by polling alone; the hang makes the kill land mid-write every time.
"""
import os
import signal
import subprocess
import sys
import time
from typing import Dict, Optional, Sequence

_SCRIPT = """
import functools, importlib, os, runpy, sys, time
target, calls, match, marker, script = sys.argv[1:6]
module_name, attr = target.rsplit('.', 1)
module = importlib.import_module(module_name)
original = getattr(module, attr)
count = 0


@functools.wraps(original)
def hanging(*args, **kwargs):
    global count
    result = original(*args, **kwargs)
    if not match or any(match in str(a) for a in args):
        count += 1
    if count >= int(calls):
        open(marker, 'w').close()
        time.sleep(3600)
    return result


setattr(module, attr, hanging)
sys.argv = [script] + sys.argv[6:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name='__main__')
"""


def start_hanging(script: str,
                  args: Sequence[str],
                  target: str,
                  marker: str,
                  calls: int = 1,
                  match: str = '',
                  env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
    """Start ``python script *args`` with ``target`` patched to hang.

    Args:
        script (str): The script (a tool) to run as ``__main__``.
        args (Sequence[str]): Its command line arguments.
        target (str): ``module.function`` that hangs, looked up as an
            attribute at call time by the code under test (``numpy.save``,
            ``cv2.imencode``, ``os.replace``, ``shutil.copy2``, ...).
        marker (str): File touched when the hang starts.
        calls (int): Hang after this many (counted) calls returned.
            Defaults to 1.
        match (str): Count only calls with an argument whose ``str``
            contains it. Defaults to ``''`` (every call).
        env (dict, optional): Environment. Defaults to this one with
            ``OMP_NUM_THREADS=1``.

    Returns:
        subprocess.Popen: The process (stdout and stderr to pipes).
    """
    env = dict(os.environ, OMP_NUM_THREADS='1') if env is None else env
    return subprocess.Popen(
        [sys.executable, '-c', _SCRIPT, target,
         str(calls), match, marker, script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env)


def wait_hanging(proc: subprocess.Popen, marker: str,
                 timeout: float = 120) -> None:
    """Wait until ``proc`` hangs (``marker`` exists).

    Raises:
        RuntimeError: If ``proc`` ends first (with its output).
        TimeoutError: If nothing happened within ``timeout`` seconds (the
            process is killed).
    """
    deadline = time.monotonic() + timeout
    while not os.path.exists(marker):
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise RuntimeError(
                f'the process ended (rc {proc.returncode}) before hanging:\n'
                f'{out.decode(errors="replace")[-2000:]}\n'
                f'{err.decode(errors="replace")[-4000:]}')
        if time.monotonic() > deadline:
            kill(proc)
            raise TimeoutError(f'the process did not hang within {timeout} s')
        time.sleep(0.05)


def kill(proc: subprocess.Popen) -> None:
    """``SIGKILL`` ``proc`` and reap it (a dead, reaped process id)."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
