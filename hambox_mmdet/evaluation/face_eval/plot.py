# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Precision-recall curves of an AFW / PASCAL Face evaluation, as a PNG."""
from pathlib import Path
from typing import Optional, Union

import numpy as np

from .results import FaceEvalResult


def plot_curves(result: FaceEvalResult,
                out_file: Union[str, Path],
                title: Optional[str] = None) -> None:
    """Draw the curves with and without box-style calibration.

    Args:
        result (FaceEvalResult): from :func:`evaluate`.
        out_file (str | Path): the PNG to write (its folder is created).
        title (str, optional): e.g. ``'AFW'``. Defaults to None.
    """
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    curves = [(result.curve_calibrated,
               f'calibrated ({result.num_calib_iters} it.)', '-'),
              (result.curve, 'no calibration', '--')]
    for curve, label, style in curves:
        defined = ~np.isnan(curve.precision)
        ax.plot(curve.recall[defined], curve.precision[defined], style,
                linewidth=2, label=f'{label}: AP {curve.ap * 100:.2f}')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel('Recall')
    ax.set_ylabel('Precision')
    ax.grid(True)
    ax.legend(loc='lower left')
    ax.set_title((title + ': ' if title else '') +
                 f'{result.num_counted} faces, '
                 f'{result.num_kept} detections', fontsize=10)
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(str(out_file))
    plt.close(fig)
