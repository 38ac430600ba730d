# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The ``assigner`` section of ``benchmarks/gpu_suite.py``.

``HAMBoxAssigner`` against ``MaxIoUAssigner`` (0.35 / 0.35, without and
with low-quality matching) on the 87,360 anchors of a 1024 x 1024 image
and the faces of ``bench_assigner.make_inputs``; the median time of each
``assign`` and how many faces HAMBox compensated. The components must be
registered first (``gpu_suite.py`` does it).
"""


def time_assigners(device: str, faces: list, repeats: int) -> dict:
    """One row per face count in ``faces``: milliseconds per assigner."""
    from bench_assigner import make_inputs
    from mmdet.registry import TASK_UTILS
    from timing import median_time
    common = dict(pos_iou_thr=0.35, neg_iou_thr=0.35, min_pos_iou=0.)
    assigners = {
        'hambox': TASK_UTILS.build(dict(type='HAMBoxAssigner')),
        'maxiou': TASK_UTILS.build(
            dict(type='MaxIoUAssigner', match_low_quality=False, **common)),
        'maxiou_lq': TASK_UTILS.build(
            dict(type='MaxIoUAssigner', match_low_quality=True, **common)),
    }
    rows = []
    for n in faces:
        pred, gt = make_inputs(n, seed=n, device=device)
        row = dict(faces=n, anchors=len(pred.priors))
        for name, assigner in assigners.items():
            row[f'{name}_ms'] = 1000 * median_time(
                lambda a=assigner: a.assign(pred, gt), repeats, device)
        result = assigners['hambox'].assign(pred, gt)
        row['compensated'] = int(
            result.get_extra_property('compensated').sum())
        row['hambox_over_maxiou'] = row['hambox_ms'] / row['maxiou_ms']
        print(f'assigner: {row}', flush=True)
        rows.append(row)
    return dict(rows=rows, repeats=repeats)
