"""Rows of images with labels and predictions drawn by the codebases' own
visualizers, for reports."""
from typing import List, Sequence

import numpy as np
import torch

from .seg_labels import label_row


def seg_prediction_rows(inputs: Sequence[torch.Tensor],
                        data_samples: Sequence,
                        metainfo: dict,
                        scale: int = 3) -> List[np.ndarray]:
    """Image | ground truth | prediction (:func:`~.seg_labels.label_row`),
    one BGR uint8 row per sample.

    Args:
        inputs (Sequence[Tensor]): CHW uint8 BGR images as packed by
            ``PackSegInputs``.
        data_samples (Sequence[SegDataSample]): Samples with ``gt_sem_seg``
            and ``pred_sem_seg``.
        metainfo (dict): ``classes`` and ``palette`` of the dataset.
        scale (int): Nearest-neighbour upscaling, so small images stay
            readable. Defaults to 3.
    """
    return [
        label_row(
            np.ascontiguousarray(img.permute(1, 2, 0).numpy()), [
                sample.gt_sem_seg.data[0].cpu().numpy(),
                sample.pred_sem_seg.data[0].cpu().numpy()
            ], metainfo, scale) for img, sample in zip(inputs, data_samples)
    ]


def clip_prediction_figure(clips: Sequence[np.ndarray],
                           titles: Sequence[str],
                           out_file: str,
                           num_frames: int = 6) -> None:
    """Save a figure with one row of evenly spaced frames per clip.

    Args:
        clips (Sequence[ndarray]): TxHxWxC uint8 RGB clips (mmaction
            decodes frames as RGB).
        titles (Sequence[str]): One title per row (e.g. label and
            prediction).
        out_file (str): PNG path.
        num_frames (int): Frames shown per clip. Defaults to 6.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(clips), num_frames, figsize=(1.4 * num_frames, 1.6 * len(clips)),
        squeeze=False)
    for row, (clip, title) in enumerate(zip(clips, titles)):
        picks = np.linspace(0, len(clip) - 1, num_frames).round().astype(int)
        for col, t in enumerate(picks):
            ax = axes[row, col]
            ax.imshow(clip[t])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f't={t}', fontsize=7)
        axes[row, 0].set_title(title, fontsize=8, loc='left')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
