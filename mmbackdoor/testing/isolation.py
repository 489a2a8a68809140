"""Run a module in a fresh interpreter where some packages cannot be
imported, to test that it does not need them."""
import subprocess
import sys
from typing import Sequence

#: The OpenMMLab packages and torch.
HEAVY = ('mmaction', 'mmseg', 'mmengine', 'mmcv', 'torch')

_SCRIPT = """
import importlib.util, sys
for name in {blocked!r}:
    sys.modules[name] = None
spec = importlib.util.spec_from_file_location('module', sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
{body}
"""


def run_without(module_file: str,
                body: str,
                blocked: Sequence[str] = HEAVY) -> str:
    """Load ``module_file`` (as ``module``) with ``blocked`` unimportable,
    run the code ``body`` after it and return what it printed.

    Raises:
        subprocess.CalledProcessError: If loading or ``body`` fails.
    """
    script = _SCRIPT.format(blocked=tuple(blocked), body=body)
    return subprocess.run([sys.executable, '-c', script, module_file],
                          capture_output=True, text=True, check=True).stdout
