# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBox Fig. 1 (anchor scale vs. anchors matched per face): hand-made
faces, and the tool on the real WIDER FACE train annotations, which must
give the README's table."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hambox_mmdet.analysis import anchor_scale_statistics, match_counts
from hambox_mmdet.models import FaceAnchorGenerator

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / 'tools' / 'analysis_tools' / 'anchor_stats.py'


def _anchor_face(scale, centre=22.0):
    """A face exactly on the stride-4 anchor centred at ``centre``."""
    half = scale * 16 / 2
    return [centre - half, centre - half, centre + half, centre + half]


def test_statistics_by_hand():
    # at s = 0.68 the first face matches its anchor and 4 neighbours (see
    # test_matching); the 2 x 2 px face is far too small for any anchor
    faces = np.array([_anchor_face(0.68), [100, 100, 102, 102]])
    stats = anchor_scale_statistics(
        faces, np.zeros(2, int), [0.68, 0.5], strides=[4])
    assert stats['scale'].tolist() == [0.68, 0.5]
    assert stats['counts'][0].tolist() == [5, 0]
    assert stats['mean_matched'][0] == 2.5
    assert stats['share_matched'][0] == 0.5
    # each row is match_counts with that scale's generator
    gen = FaceAnchorGenerator(anchor_scale=0.5, strides=[4])
    assert stats['counts'][1].tolist() == match_counts(
        gen, faces, np.zeros(2, int)).tolist()
    assert stats['counts'].dtype == np.int64


def test_statistics_without_faces_or_scales():
    stats = anchor_scale_statistics(np.zeros((0, 4)), np.zeros(0), [0.5])
    assert stats['counts'].shape == (1, 0)
    assert np.isnan(stats['mean_matched']).all()
    assert np.isnan(stats['share_matched']).all()
    stats = anchor_scale_statistics(np.ones((1, 4)), np.zeros(1), [])
    assert stats['counts'].shape == (0, 1)
    assert stats['mean_matched'].shape == (0, )


@pytest.mark.slow
def test_tool_on_real_wider_train_gives_the_readme_table(wider_root,
                                                          tmp_path):
    """The README's Fig. 1 table, to its printed precision, from the
    156,994 non-ignored WIDER train faces."""
    ann = wider_root / 'wider_face_split' / 'wider_face_train_bbx_gt.txt'
    out = tmp_path / 'stats.json'
    png = tmp_path / 'stats.png'
    proc = subprocess.run([
        sys.executable,
        str(TOOL),
        str(ann), '--scales', '0.5', '0.68', '1.0', '--json',
        str(out), '--out-png',
        str(png)
    ],
                          cwd=str(REPO_ROOT),
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '| 0.68 | 4.55 | 0.934 | 4.75 / 0.93 |' in proc.stdout
    result = json.loads(out.read_text())
    assert result['num_faces'] == 156994
    rows = {r['scale']: r for r in result['rows']}
    table = {0.5: (2.79, 0.977), 0.68: (4.55, 0.934), 1.0: (8.01, 0.800)}
    for scale, (mean, share) in table.items():
        assert round(rows[scale]['mean_matched'], 2) == mean, scale
        assert round(rows[scale]['share_matched'], 3) == share, scale
    assert png.stat().st_size > 10000
