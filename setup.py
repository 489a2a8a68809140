"""Install mmbackdoor.

``install_requires`` deliberately leaves out ``torch`` and ``mmcv``: a GPU
user's CUDA torch and compiled mmcv must never be replaced. The CPU install
path pins them in ``requirements/cpu.txt`` (see the README).

The configs ship with the package the OpenMMLab way, under
``mmbackdoor/.mim/`` (:data:`MIM_ITEMS`): a wheel gets copies (written into
the build folder, never into the source tree), an editable install gets
symbolic links in the source tree (``mmbackdoor/.mim/`` is gitignored), so
that a config anywhere can say ``_base_ = ['mmbackdoor::<path under
configs/>']`` (README, "Using the configs from your own project").
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

REPO = osp.dirname(osp.abspath(__file__))
#: What ships under ``mmbackdoor/.mim/``: paths relative to the repository
#: root (mmengine reads ``.mim/model-index.yml``, then ``.mim/configs/``).
MIM_ITEMS = ('configs', 'model-index.yml')
MIM_DIR = osp.join('mmbackdoor', '.mim')


def read_version() -> str:
    scope = {}
    with open(osp.join(REPO, 'mmbackdoor', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def mim_files(repo: str = REPO):
    """``(source, path under mmbackdoor/.mim/)`` of every file that ships
    under ``mmbackdoor/.mim/``: each of :data:`MIM_ITEMS` that exists,
    folders file by file (``__pycache__`` and compiled files left out)."""
    found = []
    for item in MIM_ITEMS:
        src = osp.join(repo, item)
        if osp.isfile(src):
            found.append((src, item))
        for root, dirs, files in os.walk(src):
            dirs[:] = sorted(d for d in dirs if d != '__pycache__')
            for name in sorted(files):
                if not name.endswith(('.pyc', '.pyo')):
                    path = osp.join(root, name)
                    found.append((path, osp.relpath(path, repo)))
    return found


def link_mim(repo: str = REPO) -> list:
    """Point ``<repo>/mmbackdoor/.mim/<item>`` at ``<repo>/<item>`` with
    relative symbolic links (an editable install: edits to ``configs/`` take
    effect at once), replacing what was there; a copy where links are
    impossible (Windows without the privilege).

    Returns:
        list: The paths made.
    """
    mim = osp.join(repo, MIM_DIR)
    os.makedirs(mim, exist_ok=True)
    made = []
    for item in MIM_ITEMS:
        src = osp.join(repo, item)
        if not osp.exists(src):
            continue
        dst = osp.join(mim, item)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        try:
            os.symlink(osp.relpath(src, mim), dst)
        except OSError:
            if osp.isdir(src):
                shutil.copytree(src, dst)
            else:
                shutil.copyfile(src, dst)
        made.append(dst)
    return made


class BuildPyWithMim(build_py):
    """``build_py`` that adds :func:`mim_files` to ``mmbackdoor/.mim/`` of
    the build folder, or, for an editable install, links them in the source
    tree (:func:`link_mim`): setuptools' editable wheel maps the package to
    the source folder, and mmengine looks for ``.mim/`` next to the
    imported package."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            link_mim()
            return
        for src, rel in mim_files():
            dst = osp.join(self.build_lib, MIM_DIR, rel)
            self.mkpath(osp.dirname(dst))
            self.copy_file(src, dst)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, 'editable_mode', False):
            return outputs
        return outputs + [
            osp.join(self.build_lib, MIM_DIR, rel) for _, rel in mim_files()
        ]


if __name__ == '__main__':
    if 'develop' in sys.argv:  # setuptools < 80: develop runs no build_py
        link_mim()
    setup(
        name='mmbackdoor',
        version=read_version(),
        description='Backdoor poisoning and adversarial attacks for '
        'MMSegmentation and MMAction2',
        long_description=open(osp.join(REPO, 'README.md')).read(),
        long_description_content_type='text/markdown',
        packages=find_packages(include=['mmbackdoor', 'mmbackdoor.*']),
        cmdclass={'build_py': BuildPyWithMim},
        python_requires='>=3.8',
        install_requires=[
            'mmengine>=0.10.0,<0.11',
            'numpy',
            'scikit-image',
            'matplotlib',
            # mmengine resolves ``_base_ = ['mmseg::...']`` with
            # pkg_resources, which setuptools 82 removed.
            'setuptools<82',
        ],
        extras_require={
            'seg': ['mmsegmentation>=1.2.0,<1.3', 'ftfy', 'regex'],
            'video': [
                'mmaction2>=1.2.0,<1.3', 'importlib_metadata',
                'decord>=0.4.1'
            ],
        },
        license='Apache License 2.0',
        zip_safe=False,
    )
