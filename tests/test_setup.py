"""``setup.py``: what the built package ships under ``mmbackdoor/.mim/``
(every file of ``configs/`` and ``model-index.yml``: copies in a wheel,
links in an editable install). ``.ci/wheel_check.sh`` builds the real
wheel and resolves a ``mmbackdoor::`` base from outside the repository."""
import importlib.util
import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='module')
def setup_py():
    """``setup.py`` as a module (its ``setup()`` call runs only as
    ``__main__``)."""
    spec = importlib.util.spec_from_file_location(
        'mmbackdoor_setup', osp.join(REPO, 'setup.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def files_under(folder):
    return {
        osp.relpath(osp.join(root, name), folder)
        for root, dirs, names in os.walk(folder)
        if '__pycache__' not in root.split(os.sep)
        for name in names if not name.endswith(('.pyc', '.pyo'))
    }


def test_mim_files_are_every_file_of_configs(setup_py):
    shipped = dict((rel, src) for src, rel in setup_py.mim_files())
    configs = {
        osp.join('configs', rel)
        for rel in files_under(osp.join(REPO, 'configs'))
    }
    assert set(shipped) == configs | {'model-index.yml'}
    for rel, src in shipped.items():
        assert src == osp.join(REPO, rel)
    # the bases the configs name relatively ship with them
    assert 'configs/_base_/datasets/embedded_seg.py' in shipped
    assert 'configs/backdoor_seg/_base_/datasets/embedded_fine-grained.py' \
        in shipped


def test_manifest_carries_the_mim_items_into_the_sdist(setup_py):
    lines = open(osp.join(REPO, 'MANIFEST.in')).read().splitlines()
    for item in setup_py.MIM_ITEMS:
        kind = 'graft' if osp.isdir(osp.join(REPO, item)) else 'include'
        assert f'{kind} {item}' in lines, item


def source_mim():
    """What the source tree's ``mmbackdoor/.mim`` holds (an editable
    install's links, or nothing)."""
    mim = osp.join(REPO, 'mmbackdoor', '.mim')
    if not osp.lexists(mim):
        return None
    return {
        name: os.readlink(osp.join(mim, name))
        if osp.islink(osp.join(mim, name)) else os.stat(
            osp.join(mim, name)).st_mtime_ns
        for name in os.listdir(mim)
    }


def test_build_py_copies_them_into_the_build_folder(setup_py, tmp_path):
    from setuptools.dist import Distribution
    before = source_mim()
    dist = Distribution(dict(name='mmbackdoor', packages=[]))
    cmd = setup_py.BuildPyWithMim(dist)
    cmd.build_lib = str(tmp_path)
    cmd.ensure_finalized()
    cmd.run()
    mim = tmp_path / 'mmbackdoor' / '.mim'
    expected = {rel for _, rel in setup_py.mim_files()}
    assert files_under(str(mim)) == expected
    assert not any(osp.islink(osp.join(mim, rel)) for rel in expected)
    assert set(cmd.get_outputs()) >= {str(mim / rel) for rel in expected}
    assert source_mim() == before  # nothing written into the source tree


def test_editable_install_links_them(setup_py, tmp_path):
    repo = tmp_path / 'repo'
    (repo / 'configs' / 'sub').mkdir(parents=True)
    (repo / 'configs' / 'sub' / 'a.py').write_text('a = 1\n')
    (repo / 'model-index.yml').write_text('Import: []\n')
    stale = repo / 'mmbackdoor' / '.mim' / 'configs'
    stale.mkdir(parents=True)  # a copy left by an older build
    (stale / 'old.py').write_text('')
    made = setup_py.link_mim(str(repo))
    mim = repo / 'mmbackdoor' / '.mim'
    assert sorted(made) == sorted(
        str(mim / item) for item in setup_py.MIM_ITEMS)
    for item in setup_py.MIM_ITEMS:
        link = mim / item
        assert link.is_symlink()
        assert not osp.isabs(os.readlink(link))  # survives moving the tree
        assert link.resolve() == (repo / item).resolve()
    assert (mim / 'configs' / 'sub' / 'a.py').read_text() == 'a = 1\n'
    assert not (mim / 'configs' / 'old.py').exists()
