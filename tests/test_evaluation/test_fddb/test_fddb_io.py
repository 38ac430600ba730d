# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDB files: the official detection layout (round trip, errors with file
and line) and the annotation files (real ones, malformed ones)."""

import numpy as np
import pytest

from oracles.fddb_reference import FDDB_FOLDS  # noqa: E402

from hambox_mmdet.evaluation.fddb import (  # noqa: E402
    load_ground_truth as load_fddb_folds,
    read_prediction_file as read_detection_file,
    read_predictions as read_detections, read_ellipse_list,
    write_predictions as write_detections)


def test_write_read_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    dets = {
        '2002/08/11/big/img_591': rng.normal(100, 50, (7, 5)),
        '2002/08/26/big/img_265': np.zeros((0, 5)),
    }
    dets['2002/08/11/big/img_591'][0, 4] = 1 / 3
    out = tmp_path / 'dets.txt'
    write_detections(str(out), dets, ['2002/08/26/big/img_265',
                                      '2002/08/11/big/img_591', 'extra/x'])
    lines = out.read_text().splitlines()
    assert lines[:3] == ['2002/08/26/big/img_265', '0',
                         '2002/08/11/big/img_591']
    back = read_detection_file(str(out))
    assert list(back) == ['2002/08/26/big/img_265', '2002/08/11/big/img_591',
                          'extra/x']
    np.testing.assert_array_equal(back['2002/08/11/big/img_591'],
                                  dets['2002/08/11/big/img_591'])
    assert back['extra/x'].shape == (0, 5)


def test_several_files_and_folder(tmp_path):
    (tmp_path / 'a.txt').write_text('a/b\n1\n1 2 3 4 0.5\n')
    (tmp_path / 'b.txt').write_text('c/d.jpg\n0\n')
    dets = read_detections(str(tmp_path))
    assert sorted(dets) == ['a/b', 'c/d']
    (tmp_path / 'c.txt').write_text('a/b\n0\n')
    with pytest.raises(ValueError, match=r'c\.txt: image .a/b. is also'):
        read_detections([str(tmp_path / 'a.txt'), str(tmp_path / 'c.txt')])


@pytest.mark.parametrize(
    'text,line,what',
    [
        ('a/b\nx\n', 2, 'not an integer'),
        ('a/b\n-1\n', 2, 'negative box count'),
        ('a/b\n2\n1 2 3 4 0.5\n', 4, 'missing'),
        ('a/b\n1\n1 2 3 4\n', 3, 'expected 5 fields'),
        ('a/b\n2\n1 2 3 4 0.5\n1 2 3 4 0.5 1\n', 4, 'expected 5 fields'),
        ('a/b\n1\n1 2 x 4 0.5\n', 3, 'non-numeric'),
        ('a/b\n0\nc/d\n1\n1 2 3 4 nan\n', 5, 'NaN'),
        ('a/b\n0\na/b\n0\n', 3, 'listed twice'),
        ('a/b\n', 2, 'missing'),
        # the first bad line in file order, whatever its kind
        ('a/b\n2\n1 2 3 4 nan\n1 2 3 4\n', 3, 'NaN'),
        ('a/b\n2\n1 2 3 4 0.5\n1 2 3 4 inf\n', 4, 'NaN or infinite'),
        ('a/b\n3\n1 2 3 4 nan\n', 3, 'NaN'),
    ])
def test_bad_detection_files_name_file_and_line(tmp_path, text, line, what):
    path = tmp_path / 'bad.txt'
    path.write_text(text)
    with pytest.raises(ValueError, match=rf'bad\.txt: line {line}: .*{what}'):
        read_detection_file(str(path))


@pytest.mark.parametrize(
    'text,line,what',
    [
        ('a/b\n1\n10 5 0.1 20 20\n', None, None),  # five fields are read
        ('a/b\n1\n10 5 0.1 20 1\n', None, None),
        ('a/b\nz\n', 2, 'not an integer'),
        ('a/b\n2\n10 5 0.1 20 20 1\n', 4, 'missing'),
        ('a/b\n1\n10 5 0.1 20\n', 3, 'expected 6 fields'),
        ('a/b\n1\n10 5 q 20 20 1\n', 3, 'non-numeric'),
        ('a/b\n1\n-10 5 0 20 20 1\n', 3, 'negative radius'),
        ('a/b\n1\n10 5 0 inf 20 1\n', 3, 'infinite'),
        ('a/b\n2\n-1 5 0 20 20 1\n10 5 q 20 20 1\n', 3, 'negative radius'),
        ('a/b\n2\n10 5 0 20 20 1\n10 5 q 20 20 1\n', 4, 'non-numeric'),
        ('a/b\n3\n10 5 0 20 20 1\n', 4, 'the file has 1 more lines'),
    ])
def test_bad_ellipse_lists_name_file_and_line(tmp_path, text, line, what):
    path = tmp_path / 'FDDB-fold-01-ellipseList.txt'
    path.write_text(text)
    if line is None:
        keys, ells = read_ellipse_list(str(path))
        assert keys == ['a/b'] and ells[0].shape == (1, 5)
        return
    with pytest.raises(ValueError,
                       match=rf'ellipseList\.txt: line {line}: .*{what}'):
        read_ellipse_list(str(path))


def test_ellipse_rows_of_five_and_six_fields_mix(tmp_path):
    path = tmp_path / 'FDDB-fold-01-ellipseList.txt'
    path.write_text('a/b\n3\n10 5 0.5 20 30\n8 4 -0.5 40 50 1\n'
                    '6 3 0 60 70 1\n\nc/d\n0\n')
    keys, ells = read_ellipse_list(str(path))
    assert keys == ['a/b', 'c/d']
    np.testing.assert_array_equal(
        ells[0], [[10, 5, 0.5, 20, 30], [8, 4, -0.5, 40, 50], [6, 3, 0, 60, 70]])
    assert ells[1].shape == (0, 5) and ells[0].dtype == np.float64


def test_fold_list_must_agree_with_ellipse_list(tmp_path):
    (tmp_path / 'FDDB-fold-01-ellipseList.txt').write_text(
        'a/b\n1\n10 5 0 20 20 1\nc/d\n0\n')
    (tmp_path / 'FDDB-fold-01.txt').write_text('a/b\nx/y\n')
    with pytest.raises(ValueError, match='disagree at image 2'):
        load_fddb_folds(str(tmp_path), 1)
    assert len(load_fddb_folds(str(tmp_path), 1, check_lists=False)) == 2
    with pytest.raises(ValueError, match='folds must be in 1..10'):
        load_fddb_folds(str(tmp_path), [0, 11])


def test_real_fold_files():
    if not FDDB_FOLDS.is_dir():
        pytest.skip(f'FDDB annotations not found at {FDDB_FOLDS}')
    gt = load_fddb_folds(str(FDDB_FOLDS))
    assert (len(gt), gt.num_faces) == (2845, 5171)
    assert all(len(e) >= 1 for e in gt.ellipses)
    assert np.bincount(gt.folds)[1:].sum() == 2845
    # the first face of fold 1, as in the file
    assert gt.image_keys[0] == '2002/08/11/big/img_591'
    np.testing.assert_allclose(gt.ellipses[0][0],
                               [123.5833, 85.5495, 1.265839, 269.6934,
                                161.7812])
    # radians: every angle within (-pi, pi]
    angles = np.concatenate([e[:, 2] for e in gt.ellipses])
    assert np.abs(angles).max() <= np.pi + 1e-6
    one = load_fddb_folds(str(FDDB_FOLDS), folds=[3])
    assert set(one.folds) == {3} and set(one.image_keys) < set(gt.image_keys)
