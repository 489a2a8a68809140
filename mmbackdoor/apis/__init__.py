from .experiment import build_runner, set_data_root, evaluate_checkpoint, train_model
from .inference import load_model, predict, load_test_samples

__all__ = [
    'build_runner', 'set_data_root', 'train_model', 'evaluate_checkpoint',
    'load_model', 'predict', 'load_test_samples'
]
