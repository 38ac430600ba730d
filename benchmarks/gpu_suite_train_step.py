# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The ``train_step`` section of ``benchmarks/gpu_suite.py``.

One R50-FPN training step (forward, loss, backward, SGD; the models and
batches of ``bench_train_step.py``) of HAMBox, of its baseline and of the
baseline with low-quality matching, all three with the same weights, per
number of faces per image; on CUDA also the peak memory. ``targets`` checks
the rows against HAMBox <= 1.1x the baseline at 100 faces and its
1,000-face step <= 1.2x its 10-face step.
"""
import torch


def targets(rows: list) -> dict:
    """The targets that the measured face counts allow checking."""
    by_faces = {r['faces']: r for r in rows}
    out = {}
    if 100 in by_faces:
        ratio = by_faces[100]['hambox_over_baseline']
        out['hambox_over_baseline_at_100'] = dict(
            value=ratio, target=1.1, met=ratio <= 1.1)
    if 10 in by_faces and 1000 in by_faces:
        ratio = by_faces[1000]['hambox_ms'] / by_faces[10]['hambox_ms']
        out['hambox_1000_over_10'] = dict(
            value=ratio, target=1.2, met=ratio <= 1.2)
    return out


def time_train_steps(device: str, faces: list, batch: int, size: int,
                     repeats: int) -> dict:
    """One row per face count: milliseconds per step of each model."""
    from bench_train_step import build, make_batch, step_time
    torch.manual_seed(0)
    models = {
        'hambox': build('hambox', device),
        'baseline': build('baseline', device),
        'baseline_lq': build('baseline', device, low_quality=True),
    }
    state = models['hambox'].state_dict()
    for name in ('baseline', 'baseline_lq'):
        models[name].load_state_dict(state)  # identical weights
    rows = []
    for n in faces:
        inputs = make_batch(batch, n, size, device, n)
        row = dict(faces=n)
        for name, model in models.items():
            if device.startswith('cuda'):
                torch.cuda.reset_peak_memory_stats(device)
            row[f'{name}_ms'] = 1000 * step_time(model, inputs, repeats,
                                                 device)
            if device.startswith('cuda'):
                row[f'{name}_peak_gib'] = round(
                    torch.cuda.max_memory_allocated(device) / 2**30, 2)
        row['hambox_over_baseline'] = row['hambox_ms'] / row['baseline_ms']
        print(f'train step: {row}', flush=True)
        rows.append(row)
    return dict(batch=batch, size=size, repeats=repeats, rows=rows,
                targets=targets(rows))
