"""The study figures: segmentation-backdoor ASR against the poison rate
(``benchmarks/poison_rate_sweep.py``) and fine-grained ASR against the
victims' size (``benchmarks/victim_size_study.py``), clean-label video ASR
against the trigger's optimisation budget
(``benchmarks/trigger_budget_study.py``). The demo draws them from the
studies' stored results with its own run marked."""
from typing import Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def _finish(fig, axes, out_file: str) -> None:
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def poison_rate_figure(rows: Sequence[dict], out_file: str,
                       marks: Optional[Sequence[dict]] = None) -> None:
    """ASR (with the no-trigger ASR dotted) and CBA against the poison rate,
    one line per architecture and attack.

    Args:
        rows (Sequence[dict]): ``arch``, ``attack``, ``rate`` (fraction),
            ``ASR``, ``clean/ASR``, ``CBA`` (rate 0 = the clean model, its
            ASR the trigger on it).
        out_file (str): PNG path.
        marks (Sequence[dict], optional): Points drawn as stars (``arch``,
            ``attack``, ``rate``, ``ASR``, ``CBA``), e.g. the demo's run.
    """
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    colours = {}
    for arch, attack in sorted({(r['arch'], r['attack']) for r in rows}):
        mine = sorted((r for r in rows
                       if (r['arch'], r['attack']) == (arch, attack)),
                      key=lambda r: r['rate'])
        rates = [100 * r['rate'] for r in mine]
        style = '-' if arch == 'segformer' else '--'
        line, = axes[0].plot(rates, [r['ASR'] for r in mine], 'o' + style,
                             label=f'{arch}, {attack}')
        colours[arch, attack] = line.get_color()
        axes[0].plot(rates, [r['clean/ASR'] for r in mine], 'x:',
                     color=line.get_color())
        axes[1].plot(rates, [r['CBA'] for r in mine], 'o' + style,
                     color=line.get_color(), label=f'{arch}, {attack}')
    for mark in marks or ():
        colour = colours.get((mark['arch'], mark['attack']), 'k')
        for ax, key in zip(axes, ('ASR', 'CBA')):
            ax.plot([100 * mark['rate']], [mark[key]], '*', ms=12,
                    color=colour, markeredgecolor='k',
                    label='this run' if ax is axes[0] else None)
    axes[0].set_title('ASR (%); x: same model without trigger')
    axes[1].set_title('CBA = clean mIoU')
    for ax in axes:
        ax.set_xlabel('poison rate (%)')
    _finish(fig, axes, out_file)


def trigger_budget_figure(rows: Sequence[dict], out_file: str,
                          marks: Optional[Sequence[dict]] = None) -> None:
    """Victim ASR, no-enhancement ASR and the trigger's ASR on the clean
    model against the trigger's steps, one colour per target class; victim
    top-1 minus clean top-1.

    Args:
        rows (Sequence[dict]): ``target``, ``steps``, ``batch_size``,
            ``ASR``, ``ASR_no_enhance``, ``trigger_ASR_clean_model``,
            ``top1``, ``clean_top1``.
        out_file (str): PNG path.
        marks (Sequence[dict], optional): Points drawn as stars (``target``,
            ``steps``, ``ASR``), e.g. the demo's run.
    """
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    colours = {}
    for target in sorted({r['target'] for r in rows}):
        mine = sorted((r for r in rows if r['target'] == target),
                      key=lambda r: r['steps'])
        steps = [r['steps'] for r in mine]
        line, = axes[0].plot(steps, [r['ASR'] for r in mine], 'o-',
                             label=f'class {target}: victim')
        colour = colours[target] = line.get_color()
        axes[0].plot(steps, [r['ASR_no_enhance'] for r in mine], 's--',
                     color=colour, label=f'class {target}: no enhancement')
        axes[0].plot(steps, [r['trigger_ASR_clean_model'] for r in mine],
                     'x:', color=colour, label=f'class {target}: clean model')
        axes[1].plot(steps, [r['top1'] - r['clean_top1'] for r in mine],
                     'o-', color=colour, label=f'class {target}')
    for mark in marks or ():
        axes[0].plot([mark['steps']], [mark['ASR']], '*', ms=12,
                     color=colours.get(mark['target'], 'k'),
                     markeredgecolor='k', label='this run')
    axes[0].set_title('ASR (%)')
    axes[1].set_title('victim top-1 - clean top-1')
    ticks = sorted({r['steps'] for r in rows})
    for ax in axes:
        ax.set_xscale('log')
        ax.minorticks_off()
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_xlabel(f'trigger steps (batch {rows[0]["batch_size"]})')
    _finish(fig, axes, out_file)


def victim_size_figure(rows: Sequence[dict], out_file: str,
                       marks: Optional[Sequence[dict]] = None) -> None:
    """Fine-grained ASR (no-trigger ASR dotted), ``ASR_recognised`` and the
    clean model's victim recall against the victims' size; CBA minus the
    clean model's mIoU. One colour per architecture.

    Args:
        rows (Sequence[dict]): ``arch``, ``person_scale``, ``ASR``,
            ``clean/ASR``, ``ASR_recognised``, ``victim_recall``, ``CBA``,
            ``clean mIoU``.
        out_file (str): PNG path.
        marks (Sequence[dict], optional): Points drawn as stars (``arch``,
            ``person_scale``, ``ASR``), e.g. the demo's run.
    """
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    colours = {}
    for arch in sorted({r['arch'] for r in rows}):
        mine = sorted((r for r in rows if r['arch'] == arch),
                      key=lambda r: r['person_scale'])
        scales = [r['person_scale'] for r in mine]
        line, = axes[0].plot(scales, [r['ASR'] for r in mine], 'o-',
                             label=f'{arch}: ASR')
        colour = colours[arch] = line.get_color()
        axes[0].plot(scales, [r['clean/ASR'] for r in mine], 'x:',
                     color=colour, label=f'{arch}: without trigger')
        axes[0].plot(scales, [r['ASR_recognised'] for r in mine], 's--',
                     color=colour, label=f'{arch}: ASR_recognised')
        axes[0].plot(scales, [r['victim_recall'] for r in mine], '^-.',
                     color=colour, label=f'{arch}: clean victim recall')
        axes[1].plot(scales, [r['CBA'] - r['clean mIoU'] for r in mine],
                     'o-', color=colour, label=arch)
    for mark in marks or ():
        axes[0].plot([mark['person_scale']], [mark['ASR']], '*', ms=12,
                     color=colours.get(mark['arch'], 'k'),
                     markeredgecolor='k', label='this run')
    axes[0].set_title('fine-grained, % of person pixels')
    axes[1].set_title('CBA - clean mIoU')
    for ax in axes:
        ax.set_xlabel('person size (x the embedded data\'s)')
    _finish(fig, axes, out_file)
