# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The FDDB ROC curves (discrete and continuous) as a PNG."""
import os
import os.path as osp
from typing import Optional

from .results import FDDBResult


def plot_curves(result: FDDBResult,
                out_file: str,
                max_fp: int = 2000,
                label: Optional[str] = None) -> None:
    """Save both ROC curves, true positive rate against false positives.

    Args:
        result (FDDBResult): from :func:`evaluate`.
        out_file (str): PNG path (its folder is created).
        max_fp (int): x-axis limit. Defaults to 2000, as the official plots.
        label (str, optional): method name in the legend.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, kind in zip(axes, ('discrete', 'continuous')):
        tpr = result.tpr(kind)
        at = result.tpr_at(1000, kind)
        name = f'{label}: ' if label else ''
        ax.plot(result.fp, tpr, lw=2, label=f'{name}{at:.4f} at 1000 FP')
        ax.set_xlim(0, max_fp)
        ax.set_ylim(0, 1)
        ax.set_xlabel('false positives')
        ax.set_ylabel('true positive rate')
        ax.set_title(f'FDDB {kind} ROC ({result.num_faces} faces)')
        ax.grid(True, alpha=0.3)
        ax.legend(loc='lower right')
    fig.tight_layout()
    folder = osp.dirname(out_file)
    if folder:
        os.makedirs(folder, exist_ok=True)
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
