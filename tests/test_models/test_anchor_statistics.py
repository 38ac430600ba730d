# Copyright (c) hambox_mmdet contributors. All rights reserved.
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hambox_mmdet.models import FaceAnchorGenerator
from hambox_mmdet.models.task_modules.prior_generators.anchor_statistics \
    import anchor_scale_statistics, dense_match_counts, match_counts

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('scale,ratios', [(0.4, [1.0]), (0.68, [1.0]),
                                          (1.0, [1.0, 1.3])])
def test_sparse_counts_equal_all_anchors(scale, ratios):
    """Per-face counts equal those from every anchor of the image."""
    rng = np.random.default_rng(1)
    gen = FaceAnchorGenerator(anchor_scale=scale, ratios=ratios)
    faces, ids, expected = [], [], []
    for img in range(3):
        xy = rng.uniform(40, 400, (30, 2))
        f = np.concatenate([xy, xy + rng.uniform(3, 110, (30, 2))], 1)
        faces.append(f)
        ids.append(np.full(30, img))
        expected.append(dense_match_counts(gen, torch.tensor(f), 512))
    counts = match_counts(gen, np.concatenate(faces), np.concatenate(ids))
    assert np.array_equal(counts, np.concatenate(expected))
    assert counts.sum() > 0


def test_one_face_one_anchor_by_hand():
    # an anchor of side 0.68 * 16 at stride 4 sits centred on (2 + 4 j);
    # a face equal to the cell-(5, 5) anchor matches it and its neighbours
    gen = FaceAnchorGenerator(strides=[4], anchor_scale=0.68)
    side = 0.68 * 16
    c = 22.0
    face = np.array([[c - side / 2, c - side / 2, c + side / 2,
                      c + side / 2]])
    counts = match_counts(gen, face, np.zeros(1, dtype=int))
    # neighbours 4 px away overlap (side - 4) / (side + 4) on one axis:
    # IoU = (side - 4) * side / (2 * side^2 - (side - 4) * side) = 0.46
    assert counts.tolist() == [5]  # itself and its 4 direct neighbours


def test_statistics_shape():
    faces = np.array([[0, 0, 20, 20], [100, 100, 300, 300.]])
    stats = anchor_scale_statistics(faces, np.zeros(2, int), [0.5, 1.0])
    assert stats['counts'].shape == (2, 2)
    assert stats['mean_matched'].shape == (2, )
    assert ((stats['share_matched'] >= 0) &
            (stats['share_matched'] <= 1)).all()


def test_real_wider_val_near_paper_fig1(wider_root, tmp_path):
    """The tool on the real val annotations: at s = 0.68 the paper reads
    4.75 anchors per face and 93% of faces matched (Fig. 1)."""
    ann = wider_root / 'wider_face_split' / 'wider_face_val_bbx_gt.txt'
    out = tmp_path / 'stats.json'
    png = tmp_path / 'stats.png'
    subprocess.run([
        sys.executable,
        str(REPO_ROOT / 'tools' / 'analysis_tools' / 'anchor_stats.py'),
        str(ann), '--scales', '0.5', '0.68', '1.0', '--out-json',
        str(out), '--out-png',
        str(png)
    ], check=True, cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    import json
    rows = {r['scale']: r for r in json.loads(out.read_text())['rows']}
    assert rows[0.68]['mean_matched'] == pytest.approx(4.75, abs=0.6)
    assert rows[0.68]['share_matched'] == pytest.approx(0.93, abs=0.03)
    # larger anchors: more matches per face, fewer faces matched
    assert rows[1.0]['mean_matched'] > rows[0.68]['mean_matched'] > rows[
        0.5]['mean_matched']
    assert rows[1.0]['share_matched'] < rows[0.68]['share_matched']
    assert png.stat().st_size > 10000
