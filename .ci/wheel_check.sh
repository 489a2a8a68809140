#!/usr/bin/env bash
# Wheel check: build the wheel, install it (not editable) into a fresh virtual
# environment and run the tools against the INSTALLED package from a folder
# outside the repository:
#
# 1. the wheel holds every module of the source tree's mmbackdoor/, and
#    every file of configs/ and model-index.yml under mmbackdoor/.mim/;
# 2. `import mmbackdoor` resolves to site-packages, and the wheel's declared
#    requirements are met (`pip check`);
# 3. a user's config in a folder of its own inherits a shipped config as
#    `_base_ = ['mmbackdoor::...']` (and `mmengine.hub.get_config` loads
#    one): both resolve to the installed copies, and `tools/train.py` trains
#    the user's config for two iterations (README, "Using the configs from
#    your own project");
# 4. `tools/demo.py --smoke` runs every stage (the slow part: minutes);
# 5. `tools/analysis_tools/browse_poisoned.py` draws a grid of poisoned
#    samples of the data the smoke run generated.
#
# Run alone with `bash .ci/wheel_check.sh` (`.ci/run` calls it last). The
# dependencies come from requirements/cpu.txt (torch pinned to the local CPU
# wheel), the wheel itself is installed with --no-deps. KEEP=1 keeps the
# scratch folder; PYTHON picks the interpreter of the new environment.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then
    echo "wheel check: scratch folder $WORK (kept)"
else
    trap 'rm -rf "$WORK"' EXIT
fi
export MPLBACKEND=Agg
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

step() { echo "== wheel check: $*"; }

step "fresh virtual environment, requirements/cpu.txt"
"$PYTHON" -m venv "$WORK/venv"
# shellcheck disable=SC1091
. "$WORK/venv/bin/activate"
pip install -q -r "$REPO/requirements/cpu.txt"

step "build the wheel from a clean copy of the source tree"
# A copy: building in place would leave build/ and *.egg-info in the
# repository, and a stale build/ could put deleted modules into the wheel.
python - "$REPO" "$WORK/src" << 'EOF'
import os
import shutil
import subprocess
import sys

repo, dst = sys.argv[1:]
try:  # tracked files and new files that git does not ignore
    listed = subprocess.run(
        ['git', '-C', repo, 'ls-files', '-z', '--cached', '--others',
         '--exclude-standard'], check=True, capture_output=True).stdout
    files = [f for f in listed.decode().split('\0') if f]
except (OSError, subprocess.CalledProcessError):  # not a git checkout
    skip = {'.git', 'data', 'work_dirs', 'build', 'dist'}
    files = []
    for root, dirs, names in os.walk(repo):
        if root == repo:
            dirs[:] = [d for d in dirs if d not in skip]
        dirs[:] = [d for d in dirs if d != '__pycache__']
        files += [os.path.relpath(os.path.join(root, n), repo) for n in names]
for name in files:
    if os.path.isfile(os.path.join(repo, name)):  # not deleted
        os.makedirs(os.path.dirname(os.path.join(dst, name)), exist_ok=True)
        shutil.copy2(os.path.join(repo, name), os.path.join(dst, name))
EOF
pip wheel -q --no-deps --no-build-isolation -w "$WORK/dist" "$WORK/src"
WHEEL=$(ls "$WORK"/dist/mmbackdoor-*.whl)
echo "$WHEEL"

step "the wheel holds every module of mmbackdoor/ and the configs"
python - "$WORK/src" "$WHEEL" << 'EOF'
import os
import sys
import zipfile

src, wheel = sys.argv[1:]
expected = set()
for root, dirs, files in os.walk(os.path.join(src, 'mmbackdoor')):
    dirs[:] = [d for d in dirs if d != '__pycache__']
    if any(f.endswith('.py') for f in files) and \
            '__init__.py' not in files:
        sys.exit(f'{os.path.relpath(root, src)} has no __init__.py')
    expected |= {
        os.path.relpath(os.path.join(root, f), src).replace(os.sep, '/')
        for f in files if not f.endswith(('.pyc', '.pyo'))
    }
# setup.py ships configs/ and model-index.yml under mmbackdoor/.mim/
configs = set()
for root, dirs, files in os.walk(os.path.join(src, 'configs')):
    dirs[:] = [d for d in dirs if d != '__pycache__']
    configs |= {
        'mmbackdoor/.mim/' + os.path.relpath(
            os.path.join(root, f), src).replace(os.sep, '/')
        for f in files if not f.endswith(('.pyc', '.pyo'))
    }
assert len(configs) > 50, sorted(configs)
expected |= configs | {'mmbackdoor/.mim/model-index.yml'}
shipped = {
    name for name in zipfile.ZipFile(wheel).namelist()
    if name.startswith('mmbackdoor/')
}
missing = sorted(expected - shipped)
if missing:
    sys.exit(f'the wheel lacks {len(missing)} files: {missing}')
print(f'{len(shipped)} files under mmbackdoor/ ({len(configs)} of configs/ '
      'under mmbackdoor/.mim/), none missing')
EOF

step "install the wheel (not editable, --no-deps)"
pip install -q --no-deps "$WHEEL"
pip check

RUN="$WORK/run"
mkdir "$RUN"
cd "$RUN"
# The tools take config paths relative to the working directory, as in
# OpenMMLab repositories (README, "Quick start"): only the configs are
# linked in, the code comes from the installed package.
ln -s "$REPO/configs" configs

step "import mmbackdoor resolves to site-packages"
python -c "
import sys, mmbackdoor
path = mmbackdoor.__file__
assert 'site-packages' in path and not path.startswith('$REPO/'), path
print('mmbackdoor', mmbackdoor.__version__, 'from', path)
"

step "a user's config outside the repository inherits mmbackdoor::"
# A folder of its own (no configs/ link, not the repository): the shipped
# base resolves to the installed copy, its own relative and mmseg:: bases
# with it.
USER_DIR="$WORK/user"
mkdir "$USER_DIR"
cd "$USER_DIR"
SHIPPED=backdoor_seg/fine-grained_segformer_mit-t16_1xb8-1k_embedded-seg-64x64.py
cat > my_config.py << EOF
_base_ = ['mmbackdoor::$SHIPPED']
# the user's override: two iterations, validation after them
train_cfg = dict(max_iters=2, val_interval=2)
EOF
python - "$REPO" "$SHIPPED" << 'EOF'
import os.path as osp
import sys

import mmbackdoor  # before the config: it makes mmbackdoor:: resolve
from mmengine.config import Config
from mmengine.hub import get_config

repo, shipped = sys.argv[1:]
installed = osp.join(osp.dirname(mmbackdoor.__file__), '.mim', 'configs')
assert 'site-packages' in installed, installed
cfg = Config.fromfile('my_config.py')
# mmengine keeps the name of every file a config was read from in its text:
# the user's, the installed shipped copies, mmseg's
assert osp.join(installed, shipped) in cfg.text, cfg.text[:2000]
assert osp.join(installed, '_base_/datasets/embedded_seg.py') in cfg.text
assert repo not in cfg.text, f'a file of {repo} was read'
# the model and the poisoning from the shipped base, the override on top
assert cfg.model.type == 'EncoderDecoder', cfg.model.type
assert cfg.model.backbone.type == 'MixVisionTransformer'
assert cfg.train_dataloader.dataset.type == 'PoisonedDataset'
pipeline = [t.type for t in cfg.train_dataloader.dataset.dataset.pipeline]
assert 'FineGrainedPoison' in pipeline, pipeline
assert cfg.val_cfg.type == 'BackdoorValLoop', cfg.val_cfg
assert cfg.train_cfg.max_iters == 2, cfg.train_cfg
assert cfg.train_cfg.type == 'IterBasedTrainLoop', cfg.train_cfg
assert cfg.default_scope == 'mmseg'
assert '_scope_' not in cfg.train_dataloader.dataset, 'a mmbackdoor scope'
hub = get_config(f'mmbackdoor::{shipped}')
assert hub.filename == osp.join(installed, shipped), hub.filename
assert hub.model == cfg.model
print(f'mmbackdoor::{shipped} -> {osp.join(installed, shipped)} '
      '(a _base_ of Config.fromfile, and mmengine.hub.get_config)')
EOF
# two iterations on the embedded data (generated into ./data on first use)
python "$REPO/tools/train.py" my_config.py --work-dir "$USER_DIR/work_dir" \
    > train.log 2>&1 || { tail -40 train.log; exit 1; }
test -s "$USER_DIR/work_dir/iter_2.pth"
grep 'FineGrainedPoison: poisoning' train.log | tail -1
grep -o 'CBA: [0-9.]*  PBA: [0-9.]*  ASR: [0-9.]*' train.log | tail -1
if grep -l "$REPO/mmbackdoor" train.log; then
    echo "the user's training ran code of $REPO/mmbackdoor" >&2
    exit 1
fi
cd "$RUN"

step "tools/demo.py --smoke (every stage)"
python "$REPO/tools/demo.py" --smoke --progress 60 --out "$WORK/demo" \
    --seg-data-root "$WORK/data/embedded_seg_person2" \
    --video-data-root "$WORK/data/embedded_video"
python - "$WORK/demo" << 'EOF'
import json
import os.path as osp
import sys

out = sys.argv[1]
metrics = json.load(open(osp.join(out, 'metrics.json')))
report = open(osp.join(out, 'report.md')).read()
assert 'SMOKE RUN' in report, 'report.md is not a smoke report'
assert len(metrics) > 30, sorted(metrics)
print(f'demo smoke: report.md and {len(metrics)} metrics')
EOF
# no stage touched the repository's copy of the package
if grep -rl "$REPO/mmbackdoor" "$WORK/demo/logs"; then
    echo "the demo stages ran code of $REPO/mmbackdoor" >&2
    exit 1
fi

step "tools/analysis_tools/browse_poisoned.py"
python "$REPO/tools/analysis_tools/browse_poisoned.py" \
    configs/backdoor_seg/fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py \
    --out "$WORK/grid.png" --num 2 --cfg-options \
    "train_dataloader.dataset.dataset.data_root=$USER_DIR/data/embedded_seg" \
    train_dataloader.dataset.dataset.generate=False
test -s "$WORK/grid.png"

step "passed"
