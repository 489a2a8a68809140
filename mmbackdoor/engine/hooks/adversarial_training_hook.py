"""Adversarial training (EroSeg-AT, PGD/SegPGD/CosPGD-AT) as a hook."""
from typing import List, Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import Tensor, nn

from ...attacks.base_seg_attack import (AttackResult, BaseSegAttack,
                                        build_attack, check_number)

DATA_BATCH = Optional[Union[dict, tuple, list]]


@HOOKS.register_module()
class AdversarialTrainingHook(Hook):
    """Train on adversarial examples crafted on the fly from every batch.

    Before each training iteration the hook attacks the batch with
    ``attack`` on the *current* model — unwrapped from DDP, in eval mode (BN
    statistics frozen), parameters' gradients untouched (see
    :class:`~mmbackdoor.attacks.BaseSegAttack`) — and then, by ``mode``:

    - ``'clean_adv'`` (EroSeg-AT, the paper's objective): the model is trained
      on ``CE(f(x), y) + w·CE(f(x + δ*), y)``. ``train_step`` runs on the
      clean batch as usual; a forward hook on the model adds the adversarial
      losses of the same batch, scaled by ``adv_weight``, as ``adv.*`` keys of
      the loss dict (so they are logged, summed and back-propagated in the
      one ``optim_wrapper.update_params`` call: any optimizer wrapper, AMP
      and DDP gradient synchronisation work unchanged). Clean and
      adversarial images pass through the network separately (separate BN
      batch statistics). Cost: ``T`` attack steps + 2 forward/backward.
    - ``'adversarial'`` (Madry-style): ``data_batch['inputs']`` is replaced in
      place by the adversarial images.
    - ``'half'`` (SegPGD-AT): the last ``⌈N/2⌉`` images of every batch are
      replaced in place; the others stay clean.

    Attack statistics go to the message hub as ``train/attack.loss`` (last
    step's weighted loss), ``train/attack.attacked_fraction`` (mean share of
    valid pixels with a non-zero weight, EroSeg: the mask size),
    ``train/attack.accuracy`` (pixel accuracy at the last step's input) and
    ``train/attack.time`` (seconds), and thus into the training log.

    Args:
        attack (dict | BaseSegAttack): The attack, e.g.
            ``dict(type='EroSeg', eps=8, alpha=2, steps=3)``.
        mode (str): ``'clean_adv'``, ``'adversarial'`` or ``'half'``.
            Defaults to ``'clean_adv'``.
        adv_weight (float, optional): Weight ``w > 0`` of the adversarial
            loss; only for ``mode='clean_adv'``. Defaults to 1.

    Examples:
        >>> custom_hooks = [
        ...     dict(type='AdversarialTrainingHook',
        ...          attack=dict(type='EroSeg', eps=8, alpha=2, steps=3,
        ...                      background_classes=[0]),
        ...          mode='clean_adv', adv_weight=1.0)
        ... ]
    """

    #: After hooks that edit the batch, so the attack sees what the model
    #: will see.
    priority = 'LOW'
    MODES = ('clean_adv', 'adversarial', 'half')

    def __init__(self,
                 attack: Union[dict, BaseSegAttack],
                 mode: str = 'clean_adv',
                 adv_weight: Optional[float] = None) -> None:
        if not isinstance(mode, str):
            raise TypeError(f'AdversarialTrainingHook: mode must be a str, '
                            f'one of {list(self.MODES)}, got {mode!r}')
        if mode not in self.MODES:
            raise ValueError(f'AdversarialTrainingHook: mode must be one of '
                             f'{list(self.MODES)}, got {mode!r}')
        if adv_weight is not None:
            if mode != 'clean_adv':
                raise ValueError(
                    'AdversarialTrainingHook: adv_weight only applies to '
                    f"mode='clean_adv', got mode={mode!r}")
            check_number('AdversarialTrainingHook', 'adv_weight', adv_weight,
                         0, inclusive=False)
        self.attack = build_attack(attack)
        self.mode = mode
        self.adv_weight = 1.0 if adv_weight is None else float(adv_weight)
        self._adv_batch: Optional[dict] = None
        self._handle = None

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        """Craft the adversarial batch and hand it to ``train_step``."""
        if not isinstance(data_batch, dict) or not isinstance(
                data_batch.get('inputs'), list):
            raise TypeError('AdversarialTrainingHook needs the mmseg batch '
                            'format: a dict whose "inputs" is a list')
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        num = len(data_batch['inputs'])
        chosen = range(num // 2, num) if self.mode == 'half' else range(num)
        samples = data_batch['data_samples']
        # Copies: ``train_step`` pads the batch's samples in place.
        sub_batch = dict(
            inputs=[data_batch['inputs'][i] for i in chosen],
            data_samples=[samples[i].clone() for i in chosen])
        result = self.attack.run(model, sub_batch, training=True)
        self._log(runner, result)
        if self.mode == 'clean_adv':
            self._adv_batch = dict(
                inputs=result.inputs, data_samples=sub_batch['data_samples'])
            self._handle = model.register_forward_hook(
                self._add_adversarial_losses, with_kwargs=True)
        else:
            for i, adv in zip(chosen, result.inputs):
                data_batch['inputs'][i] = adv

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Drop the forward hook and the adversarial batch."""
        if self._handle is not None:
            self._handle.remove()
        self._handle = None
        self._adv_batch = None

    def _add_adversarial_losses(self, module: nn.Module, args: Sequence,
                                kwargs: dict, output):
        """Forward hook: add ``adv_weight``-scaled ``adv.*`` losses of the
        adversarial batch to the output of the ``mode='loss'`` forward."""
        mode = kwargs.get('mode', args[2] if len(args) > 2 else 'tensor')
        if mode != 'loss' or self._adv_batch is None:
            return None
        batch, self._adv_batch = self._adv_batch, None
        data = module.data_preprocessor(batch, True)
        adv_losses = module.loss(data['inputs'], data['data_samples'])
        for key, value in adv_losses.items():
            if 'loss' in key:
                value = _scale(value, self.adv_weight)
            output[f'adv.{key}'] = value
        return output

    @staticmethod
    def _log(runner, result: AttackResult) -> None:
        fractions = result.attacked_fraction
        runner.message_hub.update_scalars({
            'train/attack.loss': result.losses[-1],
            'train/attack.attacked_fraction': sum(fractions) / len(fractions),
            'train/attack.accuracy': result.accuracy[-1],
            'train/attack.time': result.seconds,
        })

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(attack={self.attack!r}, '
                f'mode={self.mode!r}, adv_weight={self.adv_weight!r})')


def _scale(value: Union[Tensor, List[Tensor]],
           weight: float) -> Union[Tensor, List[Tensor]]:
    """``weight * value`` for a loss tensor or a list of them."""
    if isinstance(value, Tensor):
        return value * weight
    return [item * weight for item in value]
