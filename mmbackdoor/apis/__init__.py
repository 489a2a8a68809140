from .experiment import (build_runner, evaluate_checkpoint, set_data_root,
                         shrink_schedule, train_model)
from .inference import load_model, load_test_samples, predict

__all__ = [
    'build_runner', 'set_data_root', 'shrink_schedule', 'train_model',
    'evaluate_checkpoint', 'load_model', 'predict', 'load_test_samples'
]
