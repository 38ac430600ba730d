# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Precision-recall curves of the WIDER FACE evaluation."""
import os
import os.path as osp

from .results import WiderEvalResult


def plot_curves(result: WiderEvalResult,
                out_png: str,
                title: str = 'WIDER FACE val') -> None:
    """Save the precision-recall curves of the settings to a PNG.

    Uses matplotlib's Agg canvas directly (no pyplot, no global backend
    change).

    Args:
        result (WiderEvalResult): output of :func:`evaluate`.
        out_png (str): output path.
        title (str): figure title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for setting, r in result.settings.items():
        ax.plot(r.recall, r.precision, label=f'{setting}: AP {r.ap:.4f}')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel('recall')
    ax.set_ylabel('precision')
    if result.only_present_images:
        title += f' ({result.num_present_images} present images only)'
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc='lower left')
    out_dir = osp.dirname(osp.abspath(out_png))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(out_png, dpi=100)
