# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""tools/eval_fddb.py on real annotation files with generated images in the
official layout: perfect, jittered, missing and duplicated detections, bad
files, and the plain-loop reference on the same images."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from oracles.fddb_reference import FDDB_FOLDS, reference_roc  # noqa: E402
from oracles.fddb_reference import write_fddb_subset  # noqa: E402
from helpers.tool_loader import load_tool  # noqa: E402

from hambox_mmdet.evaluation.fddb import (  # noqa: E402
    ellipse_bboxes, load_ground_truth as load_fddb_folds,
    write_predictions as write_detections)

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'eval_fddb.py'
eval_fddb = load_tool('eval_fddb.py')

pytest.importorskip('cv2')


@pytest.fixture(scope='module')
def fddb_subset(tmp_path_factory):
    if not FDDB_FOLDS.is_dir():
        pytest.skip(f'FDDB annotations not found at {FDDB_FOLDS}')
    root = tmp_path_factory.mktemp('fddb')
    folds_dir, images_dir, sizes = write_fddb_subset(root, per_fold=6)
    gt = load_fddb_folds(str(folds_dir))
    return folds_dir, images_dir, sizes, gt


def _perfect(gt, score=0.9):
    return {
        k: np.c_[b[:, :2], b[:, 2:] - b[:, :2],
                 np.full(len(b), score)]
        for k, b in zip(gt.image_keys, map(ellipse_bboxes, gt.ellipses))
    }


def _run(tmp_path, folds_dir, images_dir, dets, gt, extra=()):
    det_file = tmp_path / 'dets.txt'
    write_detections(str(det_file), dets, [k for k in gt.image_keys
                                           if k in dets])
    out = tmp_path / 'out.json'
    args = eval_fddb.parse_args([
        str(det_file), '--folds-dir', str(folds_dir), '--images-dir',
        str(images_dir), '--json', str(out), *extra
    ])
    eval_fddb.run(args)
    return json.loads(out.read_text())


def test_perfect_detections(fddb_subset, tmp_path):
    folds_dir, images_dir, sizes, gt = fddb_subset
    out = _run(tmp_path, folds_dir, images_dir, _perfect(gt), gt,
               ['--plot', str(tmp_path / 'roc.png'), '--roc-prefix',
                str(tmp_path / 'ours-')])
    assert out['discrete_tpr@1000fp'] == 1.0
    assert out['discrete_tpr@2000fp'] == 1.0
    assert 0.7 < out['continuous_tpr@1000fp'] < 0.85
    assert out['num_faces'] == gt.num_faces and out['num_images'] == 12
    assert out['roc']['fp'] == [0] and out['roc']['threshold'] == [0.9]
    assert (tmp_path / 'roc.png').stat().st_size > 10_000
    # the official program's columns: tpr fp threshold / tpr fp
    disc = (tmp_path / 'ours-DiscROC.txt').read_text().splitlines()
    cont = (tmp_path / 'ours-ContROC.txt').read_text().splitlines()
    assert [line.split() for line in disc] == [['1.0', '0', '0.9']]
    assert len(cont) == 1 and len(cont[0].split()) == 2
    assert float(cont[0].split()[0]) == out['continuous_tpr@1000fp']
    assert out['matching'] == 'official'


def test_jittered_missing_duplicated(fddb_subset, tmp_path):
    folds_dir, images_dir, sizes, gt = fddb_subset
    rng = np.random.default_rng(1)
    perfect = _perfect(gt)
    # small jitter keeps every face (overlap > 0.5); a large one loses it
    jittered = {k: v + np.c_[rng.uniform(-1, 1, (len(v), 2)),
                             np.zeros((len(v), 3))]
                for k, v in perfect.items()}
    out = _run(tmp_path, folds_dir, images_dir, jittered, gt)
    assert out['discrete_tpr@1000fp'] == 1.0
    # missing: the faces of the images left out are missed
    keep = gt.image_keys[::3]
    out = _run(tmp_path, folds_dir, images_dir,
               {k: perfect[k] for k in keep}, gt)
    expected = sum(len(gt.ellipses[gt.key_to_index[k]]) for k in keep)
    assert out['discrete_tpr@1000fp'] == expected / gt.num_faces
    assert out['roc']['threshold'][-1] is None  # the official inf point
    # duplicated at a lower score: every copy is a false positive
    dup = {k: np.r_[v, np.c_[v[:, :4], np.full(len(v), 0.4)]]
           for k, v in perfect.items()}
    out = _run(tmp_path, folds_dir, images_dir, dup, gt)
    assert out['roc']['threshold'] == [0.4, 0.9]
    assert out['roc']['fp'] == [gt.num_faces, 0]
    assert out['roc']['tp_discrete'] == [gt.num_faces] * 2
    assert out['discrete_tpr@1000fp'] == 1.0
    assert out['discrete_tpr@2000fp'] == 1.0


def test_random_detections_match_reference(fddb_subset, tmp_path):
    folds_dir, images_dir, sizes, gt = fddb_subset
    rng = np.random.default_rng(2)
    dets = {}
    for k, v in _perfect(gt).items():
        n = int(rng.integers(0, 5))
        noise = np.c_[rng.uniform(-40, 300, (n, 2)),
                      rng.uniform(5, 120, (n, 2)), rng.uniform(0, 1, n)]
        v = v + np.c_[rng.normal(0, 8, (len(v), 2)),
                      rng.normal(0, 8, (len(v), 2)),
                      rng.uniform(-0.5, 0, len(v))]
        dets[k] = np.r_[v, noise]
    out = _run(tmp_path, folds_dir, images_dir, dets, gt)
    ref = reference_roc(gt.ellipses, [dets[k] for k in gt.image_keys],
                        [sizes[k] for k in gt.image_keys])
    assert out['roc']['fp'] == ref['fp'].tolist()
    assert out['roc']['tp_discrete'] == ref['tp_discrete'].tolist()
    np.testing.assert_allclose(out['roc']['tp_continuous'],
                               ref['tp_continuous'], atol=1e-9)


def test_roc_files_read_like_the_official_ones(fddb_subset, tmp_path):
    # several points, and the point of images without detections (the
    # largest double as threshold): loadtxt reads both files, columns as
    # the plotting scripts of the official outputs use them (fp vs tpr)
    folds_dir, images_dir, sizes, gt = fddb_subset
    perfect = _perfect(gt)
    keep = gt.image_keys[1:]
    dets = {k: np.r_[perfect[k], [[0, 0, 9, 9, 0.2]]] for k in keep}
    out = _run(tmp_path, folds_dir, images_dir, dets, gt,
               ['--roc-prefix', str(tmp_path / 'roc' / 'x-')])
    disc = np.loadtxt(tmp_path / 'roc' / 'x-DiscROC.txt', ndmin=2)
    cont = np.loadtxt(tmp_path / 'roc' / 'x-ContROC.txt', ndmin=2)
    assert disc.shape == (3, 3) and cont.shape == (3, 2)
    roc = out['roc']
    np.testing.assert_array_equal(disc[:, 0], roc['discrete_tpr'])
    np.testing.assert_array_equal(disc[:, 1], roc['fp'])
    np.testing.assert_array_equal(cont[:, 0], roc['continuous_tpr'])
    np.testing.assert_array_equal(cont[:, 1], roc['fp'])
    np.testing.assert_array_equal(disc[:, 2],
                                  [0.2, 0.9, np.finfo(np.float64).max])
    assert roc['threshold'] == [0.2, 0.9, None]


def test_matching_option(fddb_subset, tmp_path):
    folds_dir, images_dir, sizes, gt = fddb_subset
    dets = _perfect(gt)
    for matching in ('official', 'optimal'):
        out = _run(tmp_path, folds_dir, images_dir, dets, gt,
                   ['--matching', matching])
        assert out['matching'] == matching
        assert out['discrete_tpr@1000fp'] == 1.0
    with pytest.raises(SystemExit):
        eval_fddb.parse_args(['d.txt', '--folds-dir', 'f', '--images-dir',
                              'i', '--matching', 'greedy'])


def test_command_line_errors(fddb_subset, tmp_path):
    folds_dir, images_dir, _, gt = fddb_subset
    bad = tmp_path / 'bad.txt'
    bad.write_text(f'{gt.image_keys[0]}\n2\n1 2 3 4 0.5\n1 2 3\n')
    args = [str(bad), '--folds-dir', str(folds_dir), '--images-dir',
            str(images_dir)]
    # one run as a real command: it exits non-zero with the message
    proc = subprocess.run([sys.executable, str(TOOL), *args],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'bad.txt: line 4: expected 5 fields' in proc.stderr
    bad.write_text('2003/01/01/big/img_1\n0\n')
    with pytest.raises(SystemExit, match='not in the evaluated folds'):
        eval_fddb.main(args)
    bad.write_text(f'{gt.image_keys[0]}\n0\n')
    args[-1] = str(tmp_path / 'nowhere')
    with pytest.raises(SystemExit, match='FDDB image not found'):
        eval_fddb.main(args)
