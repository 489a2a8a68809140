"""tools/data/generate_embedded.py: the generation arguments reach the data,
and ``--digest`` prints what the shell pipeline of the README prints."""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_seg_data_with_person_scale_and_its_digest(tmp_path):
    root = tmp_path / 'seg'
    proc = subprocess.run(
        [sys.executable, 'tools/data/generate_embedded.py', '--kind', 'seg',
         '--seg-root', str(root), '--person-scale', '1.5', '--digest'],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((root / 'meta.json').read_text())['person_scale'] == 1.5
    shell = subprocess.run(
        "find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum",
        shell=True, cwd=root, capture_output=True, text=True, check=True)
    # the last line (mmengine logs the generation before it)
    printed = proc.stdout.splitlines()[-1].split()
    assert printed == [str(root), 'sha256', shell.stdout.split()[0]]
