"""Tests of the deterministic subset selection."""
import random
import subprocess
import sys

import pytest

from mmbackdoor.poisoning.selection import (num_to_poison, sample_key,
                                            select_poisoned, stable_uniform)

KEYS = [f'city_{i // 10}/img_{i:04d}.png' for i in range(200)]


def test_stable_uniform_is_the_same_in_a_fresh_process():
    code = ('from mmbackdoor.poisoning.selection import stable_uniform;'
            "print(repr(stable_uniform(7, 'a/b.png')))")
    out = subprocess.run([sys.executable, '-c', code],
                         check=True,
                         capture_output=True,
                         text=True).stdout
    assert float(out) == stable_uniform(7, 'a/b.png')
    assert 0.0 <= stable_uniform(7, 'a/b.png') < 1.0
    assert stable_uniform(7, 'a/b.png') != stable_uniform(8, 'a/b.png')


@pytest.mark.parametrize('rate, n, expected', [(0.1, 305, 31), (0.05, 10, 1),
                                               (0.04, 10, 0), (0.0, 7, 0),
                                               (1.0, 7, 7), (0.1, 0, 0)])
def test_num_to_poison_rounds_half_up(rate, n, expected):
    assert num_to_poison(rate, n) == expected


def test_selection_is_exact_and_only_eligible():
    eligible = [i % 3 != 0 for i in range(len(KEYS))]  # 133 eligible
    chosen = select_poisoned(KEYS, 0.1, seed=0, eligible=eligible)
    assert len(chosen) == 13  # round(13.3)
    allowed = {k for k, e in zip(KEYS, eligible) if e}
    assert set(chosen) <= allowed
    assert chosen == sorted(chosen)


def test_selection_ignores_order_and_nests_across_rates():
    shuffled = KEYS[:]
    random.Random(1).shuffle(shuffled)
    assert select_poisoned(KEYS, 0.2, 3) == select_poisoned(shuffled, 0.2, 3)
    subsets = [
        set(select_poisoned(KEYS, r, 3)) for r in (0.01, 0.05, 0.1, 0.2)
    ]
    assert [len(s) for s in subsets] == [2, 10, 20, 40]
    assert subsets[0] <= subsets[1] <= subsets[2] <= subsets[3]
    assert select_poisoned(KEYS, 0.2, 3) != select_poisoned(KEYS, 0.2, 4)


def test_selection_rejects_bad_rate_and_flags():
    with pytest.raises(ValueError, match='rate'):
        select_poisoned(KEYS, 1.2, 0)
    with pytest.raises(ValueError, match='eligibility'):
        select_poisoned(KEYS, 0.1, 0, eligible=[True])


def test_sample_key_is_relative_posix():
    assert sample_key('/data/x/img/a/b.png', '/data/x/img') == 'a/b.png'
    assert sample_key('b.png', None) == 'b.png'
