"""``mmbackdoor.apis.cli``: the JSON the tools write."""
import json

import numpy as np
import torch

from mmbackdoor.apis.cli import dump_json


def test_metrics_are_written_as_strict_json(tmp_path):
    path = str(tmp_path / 'metrics.json')
    dump_json(
        {
            'ASR': np.float32(62.5),
            'ASR_recognised': float('nan'),
            'num_pixels': np.int64(23205),
            'top1': torch.tensor(0.5),
            'ok': True,
            'table': {'PGD': [np.float64(1.5), float('nan'), None, 'x']},
        }, path)
    with open(path) as f:
        text = f.read()
    assert 'NaN' not in text
    # a strict reader: the constants NaN / Infinity are refused
    data = json.loads(text, parse_constant=lambda c: 1 / 0)
    assert data == {
        'ASR': 62.5,
        'ASR_recognised': None,
        'num_pixels': 23205,
        'top1': 0.5,
        'ok': True,
        'table': {'PGD': [1.5, None, None, 'x']},
    }
    assert isinstance(data['num_pixels'], int)
