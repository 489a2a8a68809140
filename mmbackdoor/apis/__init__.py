from .experiment import build_runner, test_checkpoint, train_model

__all__ = ['build_runner', 'train_model', 'test_checkpoint']
