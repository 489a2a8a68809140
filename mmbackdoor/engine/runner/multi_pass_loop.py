"""The scaffolding shared by the loops that evaluate one model in several
passes (clean + triggered, clean + attacks) within one val / test run."""
from typing import Any, Dict

from mmengine.runner.amp import autocast


class MultiPassLoopMixin:
    """Mixed into mmengine's ``ValLoop`` / ``TestLoop`` before them.

    :meth:`run` fires the stage and epoch hooks once around
    :meth:`run_passes` (which subclasses implement and which returns all
    passes' metrics); the epoch hook gets those metrics. Passes report
    through :meth:`prefixed` (``<pass>/<metric>``) and run the model with
    :meth:`model_step`, between :meth:`before_iter` / :meth:`after_iter`.
    """

    stage: str  # 'val' or 'test'

    def run(self) -> dict:
        """Run every pass; return their metrics."""
        stage = self.stage
        self.runner.call_hook(f'before_{stage}')
        self.runner.call_hook(f'before_{stage}_epoch')
        self.runner.model.eval()
        metrics = self.run_passes()
        self.runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        self.runner.call_hook(f'after_{stage}')
        return metrics

    def run_passes(self) -> Dict[str, Any]:
        raise NotImplementedError

    def model_step(self, data_batch: dict) -> list:
        """The model's ``val_step`` / ``test_step`` (under autocast when the
        loop has ``fp16``)."""
        with autocast(enabled=self.fp16):
            return getattr(self.runner.model, f'{self.stage}_step')(data_batch)

    def before_iter(self, idx: int, data_batch: dict) -> None:
        self.runner.call_hook(
            f'before_{self.stage}_iter', batch_idx=idx, data_batch=data_batch)

    def after_iter(self, idx: int, data_batch: dict, outputs: list) -> None:
        self.runner.call_hook(
            f'after_{self.stage}_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)

    @staticmethod
    def prefixed(name: str, metrics: Dict[str, Any]) -> Dict[str, Any]:
        """``metrics`` with keys ``<name>/<key>``."""
        return {f'{name}/{key}': value for key, value in metrics.items()}
