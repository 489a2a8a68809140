"""The clean-label video backdoor (Zhao et al., CVPR 2020) as an experiment:
the victim's and the evaluation's configs (:func:`clean_label_config`,
:func:`backdoor_test_config`) and the chain run in one process -- trigger on
the attacker's clean model, poison folders, victims fine-tuned on them,
evaluation. Used by the demo (its video stages; :func:`run_victim` is the
body of its victim stages) and the trigger-budget study
(``benchmarks/trigger_budget_study.py``), so both run one recipe."""
import copy
import os.path as osp
from typing import Callable, Dict, Optional, Tuple

import numpy as np
from mmengine.config import Config
from torch import nn

from mmbackdoor.attacks.video import (optimize_universal_trigger,
                                      progress_summary)
from mmbackdoor.triggers import UniversalTrigger, save_trigger
from mmbackdoor.utils import dataset_cfg_with_pipeline, type_name
from .clean_label import class_indices, craft_poison, endless_batches
from .experiment import evaluate_checkpoint, train_model

#: The embedded chain's settings (the paper's where they apply): 30 % of the
#: target class's training videos, untargeted PGD eps 8 / step 1 / 10 steps,
#: a bottom-right patch per frame of 12 px on the 56 px input (~5 % of the
#: frame, the share of a ~48 px patch at 224 px; the paper used 20-24 px at
#: 224 px, ~1 %), optimised for 1500 sign steps of batch 16 (victim ASR for
#: class 0: 66 % after 300 steps, 78 % after 1500, 86 % after 3000, 79 %
#: after 6000: levelled off; see ``configs/backdoor_video/README.md``).
RATE = 0.3
EPS, PGD_STEPS = 8.0, 10
TRIGGER_SIZE = 12
TRIGGER_STEPS, TRIGGER_BATCH = 1500, 16
#: Steps between two progress lines (and stored progress windows) of the
#: trigger optimisation.
LOG_INTERVAL = 100
#: The attacker's seed (trigger batches, selection, random patch) and the
#: victim's training seed, which the attacker does not control: a victim
#: sharing the clean model's seed would retrace its training run.
SEED, VICTIM_SEED = 0, 1
#: Training runs without in-training validation: every model is evaluated
#: once by its own test run (the same data).
NO_VAL = dict(val_cfg=None, val_dataloader=None, val_evaluator=None)


# --------------------------------------------------------------------------
# Configs of the victim and of the evaluation
# --------------------------------------------------------------------------
def _clip_len_of(pipeline: list) -> Optional[int]:
    """``clip_len`` of the pipeline's ``SampleFrames`` (None if absent)."""
    for step in pipeline:
        if type_name(step.get('type')) == 'SampleFrames':
            return int(step['clip_len'])
    return None


def backdoor_test_config(cfg: Config, trigger_file: str,
                         target_class: int) -> Config:
    """``cfg`` evaluated on clean and triggered test videos in one run.

    Sets ``BackdoorValLoop`` / ``BackdoorTestLoop`` (the trigger pasted
    before ``FormatShape``) with ``ActionBackdoorMetric``: the loops report
    ``top1`` (clean top-1, ``clean/top1``), ``ASR`` (``triggered/ASR``) and
    ``clean/ASR`` (target predictions without the trigger).

    Args:
        cfg (Config): An mmaction recognizer config.
        trigger_file (str): The ``UniversalTrigger`` file.
        target_class (int): The target class.

    Returns:
        Config: A modified deep copy.
    """
    cfg = copy.deepcopy(cfg)
    trigger = dict(
        type='UniversalTrigger',
        trigger_file=trigger_file,
        clip_len=_clip_len_of(
            dataset_cfg_with_pipeline(cfg.test_dataloader.dataset)
            ['pipeline']))
    summary = [('top1', 'clean/top1'), ('ASR', 'triggered/ASR')]
    evaluator = dict(type='ActionBackdoorMetric', target_class=target_class)
    cfg.val_cfg = dict(type='BackdoorValLoop', trigger=trigger,
                       summary=summary)
    cfg.test_cfg = dict(type='BackdoorTestLoop', trigger=trigger,
                        summary=summary)
    cfg.val_evaluator = evaluator
    cfg.test_evaluator = evaluator
    return cfg


def clean_label_config(cfg: Config, poison_dir: str, trigger_file: str,
                       target_class: int) -> Config:
    """The victim's config: ``cfg`` trained on the clean-label poisoned set.

    ``CleanLabelPoison(poison_dir)`` goes right before ``FormatShape`` of the
    training pipeline, the training set is wrapped in ``PoisonedDataset``
    (which checks the manifest against it), and evaluation is
    :func:`backdoor_test_config`. The files in ``configs/backdoor_video/``
    spell the same changes out.

    Args:
        cfg (Config): The clean recognizer config.
        poison_dir (str): Folder written by
            :func:`~mmbackdoor.apis.clean_label.craft_poison`.
        trigger_file (str): The trigger pasted at test time.
        target_class (int): The target class.

    Returns:
        Config: A modified deep copy.
    """
    cfg = backdoor_test_config(cfg, trigger_file, target_class)
    dataset = cfg.train_dataloader.dataset
    pipeline = dataset_cfg_with_pipeline(dataset)['pipeline']
    names = [type_name(step.get('type')) for step in pipeline]
    if 'FormatShape' not in names:
        raise ValueError('the training pipeline needs a FormatShape; '
                         f'got {names}')
    pipeline.insert(
        names.index('FormatShape'),
        dict(type='CleanLabelPoison', poison_dir=poison_dir))
    cfg.train_dataloader.dataset = dict(type='PoisonedDataset',
                                        dataset=dataset)
    return cfg


# --------------------------------------------------------------------------
# The chain
# --------------------------------------------------------------------------
def optimise_trigger(model: nn.Module, dataset, target_class: int,
                     steps: int = TRIGGER_STEPS,
                     batch_size: int = TRIGGER_BATCH,
                     size: int = TRIGGER_SIZE, seed: int = SEED,
                     **kwargs) -> Tuple[np.ndarray, dict]:
    """:func:`optimize_universal_trigger` on seeded batches of the
    non-target videos of ``dataset``; ``kwargs`` go to it (e.g.
    ``snapshot_steps``)."""
    batches = endless_batches(
        dataset, class_indices(dataset, target_class, same=False),
        batch_size, seed)
    kwargs.setdefault('log_interval', LOG_INTERVAL)
    return optimize_universal_trigger(
        model, batches, target_class, size, steps, progress=False, **kwargs)


def store_trigger(out_file: str, patches: np.ndarray, target_class: int,
                  steps: int, batch_size: int = TRIGGER_BATCH,
                  history: Optional[dict] = None) -> str:
    """Save a bottom-right trigger with its budget (and progress) in the
    ``.json`` next to it; returns ``out_file``."""
    meta = dict(
        corner='br', target_class=target_class, size=patches.shape[1],
        steps=steps, batch_size=batch_size)
    if history is not None:
        meta['progress'] = progress_summary(
            dict(success=history['success'][:steps],
                 loss=history['loss'][:steps]), LOG_INTERVAL)
    save_trigger(out_file, patches, meta)
    return out_file


def craft(model: nn.Module, dataset, target_class: int, out_dir: str,
          trigger_file: str, pgd_steps: int = PGD_STEPS, rate: float = RATE,
          seed: int = SEED) -> str:
    """A poison folder: ``rate`` of the target-class videos, PGD
    (``pgd_steps``; 0 = no enhancement) + the trigger; returns ``out_dir``."""
    craft_poison(model, dataset, target_class, out_dir,
                 UniversalTrigger(trigger_file), rate=rate, eps=EPS,
                 steps=pgd_steps, seed=seed, progress=False)
    return out_dir


def train_victim(clean_cfg: Config, poison_dir: str, trigger_file: str,
                 target_class: int, work_dir: str,
                 seed: int = VICTIM_SEED,
                 prepare: Optional[Callable[[Config], Config]] = None,
                 attacker_checkpoint: Optional[str] = None
                 ) -> Tuple[Dict[str, float], str]:
    """Fine-tune the clean model's recipe (same pretrained backbone) on
    ``poison_dir`` with the victim's ``seed``, then one clean + triggered
    test run. ``prepare`` adapts the victim config before training (e.g.
    the demo's data root and smoke schedule).

    The victim starts where the clean model started (the paper: the same
    Kinetics-pretrained network), never from the attacker's fine-tuned
    clean model: a config whose ``load_from`` is ``attacker_checkpoint``
    (as in the config a test run of that checkpoint dumps) is refused.

    Returns:
        tuple[dict, str]: ``top1``, ``ASR``, ``clean/ASR``, ... and the
        checkpoint.
    """
    cfg = clean_label_config(clean_cfg, poison_dir, trigger_file,
                             target_class)
    if prepare is not None:
        cfg = prepare(cfg)
    if attacker_checkpoint and cfg.get('load_from') and osp.abspath(
            cfg.load_from) == osp.abspath(attacker_checkpoint):
        raise ValueError(
            f'load_from={cfg.load_from!r} is the attacker\'s clean model: '
            'the victim would fine-tune it instead of the pretrained '
            'network the clean model started from; use the clean model\'s '
            'training config (not the one its test run dumped) or set '
            'load_from=None')
    cfg.randomness = dict(seed=seed)
    checkpoint = train_model(cfg, work_dir, **NO_VAL)
    return evaluate_checkpoint(cfg, checkpoint, work_dir), checkpoint


def trigger_on_clean_model(clean_cfg: Config, checkpoint: str,
                           trigger_file: str, target_class: int,
                           work_dir: str) -> Dict[str, float]:
    """The trigger's ASR on the clean model (the baseline a backdoor's ASR
    is compared with) and its clean top-1."""
    return evaluate_checkpoint(
        backdoor_test_config(clean_cfg, trigger_file, target_class),
        checkpoint, work_dir)


# --------------------------------------------------------------------------
# The demo's chain: one target class, the attack and its two ablations
# --------------------------------------------------------------------------
#: The paper's target class 0.
TARGET_CLASS = 0
#: Victim (its demo stage) -> (trigger, PGD steps of the enhancement): the
#: clean-label attack, the ablation without enhancement and the one with a
#: random (non-adversarial) patch.
VICTIMS = dict(
    video_clean_label=('adversarial', PGD_STEPS),
    video_no_enhance=('adversarial', 0),
    video_random_patch=('random', PGD_STEPS))


def run_victim(ctx, name: str) -> None:
    """Train and test the victim ``name`` (a key of :data:`VICTIMS`): the
    body of the demo's victim stages.

    ``ctx`` is the demo's context (``tools/demo.py``): the artifacts of the
    stages ``video_clean`` (config, checkpoint) and ``video_trigger``
    (triggers, poison folders) are read from it, the victim's checkpoint and
    metrics stored in it.
    """
    kind, _ = VICTIMS[name]
    attack = ctx.artifacts['video_trigger']
    metrics, checkpoint = train_victim(
        ctx.artifacts['video_clean']['config'], attack['poison_dirs'][name],
        attack['triggers'][kind], TARGET_CLASS, ctx.work_dir(name),
        prepare=lambda cfg: ctx.prepare(cfg, ctx.video_data_root),
        attacker_checkpoint=ctx.artifacts['video_clean']['checkpoint'])
    ctx.artifacts[name] = dict(checkpoint=checkpoint, metrics=metrics)
    if name == 'video_clean_label':
        ctx.metrics[f'{name}.top1'] = metrics['top1']
    ctx.metrics[f'{name}.ASR'] = metrics['ASR']
