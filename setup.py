"""Install mmbackdoor.

``install_requires`` deliberately leaves out ``torch`` and ``mmcv``: a GPU
user's CUDA torch and compiled mmcv must never be replaced. The CPU install
path pins them in ``requirements/cpu.txt`` (see the README).
"""
import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    scope = {}
    with open(osp.join('mmbackdoor', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmbackdoor',
    version=read_version(),
    description='Backdoor poisoning and adversarial attacks for '
    'MMSegmentation and MMAction2',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmbackdoor', 'mmbackdoor.*']),
    python_requires='>=3.8',
    install_requires=[
        'mmengine>=0.10.0,<0.11',
        'numpy',
        'scikit-image',
        'matplotlib',
        # mmengine resolves ``_base_ = ['mmseg::...']`` with pkg_resources,
        # which setuptools 82 removed.
        'setuptools<82',
    ],
    extras_require={
        'seg': ['mmsegmentation>=1.2.0,<1.3', 'ftfy', 'regex'],
        'video': ['mmaction2>=1.2.0,<1.3', 'importlib_metadata'],
    },
    license='Apache License 2.0',
    zip_safe=False,
)
