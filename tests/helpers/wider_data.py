# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE test material shared by the evaluation, metric and tool tests:
fake ground-truth .mat files, jittered predictions, mmdet samples and a
metric run in batches."""
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData


def synthetic_preds(gt, keys, rng, n_false=15, negative=0.0):
    """Jittered gt boxes (some twice) with random scores plus random false
    positives; x y w h score. ``negative``: fraction of boxes turned into
    their mirror image, x y w h -> x + w, y + h, -w, -h (same corners,
    negative sizes)."""
    preds = {}
    for key in keys:
        boxes = gt.boxes[gt.key_to_index[key]]
        take = boxes[rng.random(len(boxes)) < 0.85]
        take = np.repeat(take, rng.integers(1, 3, len(take)), axis=0)
        size = np.maximum(take[:, 2:], 1)
        jit = take.copy()
        jit[:, :2] += rng.normal(0, 0.12, jit[:, :2].shape) * size
        jit[:, 2:] = np.abs(take[:, 2:] *
                            (1 + rng.normal(0, 0.12, take[:, 2:].shape)))
        fp = np.hstack([rng.uniform(0, 1000, (n_false, 2)),
                        rng.uniform(2, 80, (n_false, 2))])
        scores = np.concatenate([rng.uniform(0.2, 1, len(jit)),
                                 rng.uniform(0.01, 0.8, n_false)])
        dets = np.vstack([jit, fp])
        flip = rng.random(len(dets)) < negative
        dets[flip, :2] += dets[flip, 2:]
        dets[flip, 2:] *= -1
        preds[key] = np.hstack([dets, scores[:, None]])
    return preds


def write_fake_mats(folder, drop_field=None, drop_file=None):
    from scipy.io import savemat
    events = ['0--Parade', '1--Handshaking']
    files = [['0_a', '0_b'], ['1_a']]
    boxes = [[np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.int32),
              np.zeros((0, 4), np.int32)],
             [np.array([[9, 9, 9, 9]] * 300, np.int32)]]
    gtl = [[np.array([[2]], np.uint8), np.zeros((0, 1), np.uint8)],
           [np.arange(1, 301, dtype=np.uint16)[:, None]]]

    def cell(items):
        out = np.empty((len(items), 1), dtype=object)
        for i, x in enumerate(items):
            out[i, 0] = x
        return out

    base = {
        'event_list': cell(events),
        'file_list': cell([cell(f) for f in files]),
        'face_bbx_list': cell([cell(b) for b in boxes]),
    }
    for name in ('wider_face_val', 'wider_easy_val', 'wider_medium_val',
                 'wider_hard_val'):
        if name == drop_file:
            continue
        mat = dict(base)
        if name != 'wider_face_val':
            mat['gt_list'] = cell([cell(g) for g in gtl])
        if drop_field and name == 'wider_hard_val':
            mat.pop(drop_field)
        savemat(str(folder / f'{name}.mat'), mat)


def to_samples(preds, as_objects=False):
    """x y w h score -> mmdet samples with x1 y1 x2 y2 float32 tensors."""
    samples = []
    for key, p in preds.items():
        event, stem = key.split('/')
        bboxes = np.hstack([p[:, :2], p[:, :2] + p[:, 2:4]])
        path = f'/data/widerface/WIDER_val/images/{event}/{stem}.jpg'
        pred = dict(
            bboxes=torch.from_numpy(bboxes).float(),
            scores=torch.from_numpy(p[:, 4]).float(),
            labels=torch.zeros(len(p), dtype=torch.long))
        if as_objects:
            s = DetDataSample(metainfo=dict(img_path=path))
            s.pred_instances = InstanceData(**pred)
            samples.append(s)
        else:
            samples.append(dict(img_path=path, pred_instances=pred))
    return samples


def run_metric(metric, samples, batch=3):
    for i in range(0, len(samples), batch):
        metric.process({}, samples[i:i + batch])
    return metric.evaluate(len(samples))
