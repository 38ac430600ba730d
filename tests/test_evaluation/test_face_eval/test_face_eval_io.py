# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW / PASCAL Face files: the toolkit's annotation ``.mat`` (real files
and bad ones) and its detection text layout (round trip, bad lines)."""

import numpy as np
import pytest
from scipy.io import loadmat, savemat

from hambox_mmdet.evaluation.face_eval import (
    ignore_by_size, image_key, load_ground_truth as load_face_eval_gt,
    read_predictions as read_face_eval_dets,
    write_predictions as write_face_eval_dets,
    write_ground_truth as write_face_eval_gt)

from helpers.face_eval_data import FACE_EVAL, needs_face_eval  # noqa: E402


def naive_count(path, min_size=30):
    """Images, faces, flagged and ignored faces by a plain loop."""
    anns = loadmat(str(path))['Annotations']
    images = faces = flagged = ignored = 0
    for i in range(anns.shape[0]):
        images += 1
        for row in anns[i, 0]['objects']:
            faces += 1
            flagged += int(row[5] != 0)
            small = abs(row[2] - row[0]) < min_size or \
                abs(row[3] - row[1]) < min_size
            ignored += int(row[5] != 0 or small)
    return images, faces, flagged, ignored


@needs_face_eval
@pytest.mark.parametrize('ann,images,faces', [
    ('new_annotations_AFW.mat', 205, 545),
    ('Annotations_Face_PASCALLayout_large_fixed.mat', 851, 1635),
])
def test_real_annotation_files(ann, images, faces):
    path = FACE_EVAL / 'annotations' / ann
    gt = load_face_eval_gt(path)
    assert (len(gt), gt.num_faces) == (images, faces)
    n_img, n_face, flagged, ignored = naive_count(path)
    assert (n_img, n_face) == (images, faces)
    assert int(gt.ignore_flags.sum()) == flagged
    assert int(gt.ignore.sum()) == ignored
    assert gt.num_counted == faces - ignored
    assert len(set(gt.image_keys)) == images
    assert all(name.endswith('.jpg') for name in gt.image_names)
    assert gt.image_keys[0] == image_key(gt.image_names[0])
    # imgsize is (width, height): faces fit in x against the first value
    fits = gt.boxes[:, 2] <= gt.image_sizes[gt.face_image, 0] + 1
    assert fits.all()
    np.testing.assert_array_equal(gt.face_offsets[-1], faces)
    # the ignore rule alone, vectorised
    assert int((ignore_by_size(gt.boxes) & ~gt.ignore_flags).sum()) == \
        ignored - flagged


def test_annotation_round_trip(tmp_path):
    boxes = [np.array([[10, 20, 60, 90], [0, 0, 20, 20]]), np.zeros((0, 4))]
    write_face_eval_gt(tmp_path / 'a.mat', ['x/1.jpg', '2.png'],
                       [[640, 480], [100, 50]], boxes, [[0, 1], []])
    gt = load_face_eval_gt(tmp_path / 'a.mat')
    assert gt.image_names == ['x/1.jpg', '2.png']
    assert gt.image_keys == ['1', '2']
    assert gt.image_sizes.tolist() == [[640, 480], [100, 50]]
    assert gt.face_offsets.tolist() == [0, 2, 2]
    assert gt.boxes.tolist() == boxes[0].tolist()
    assert gt.ignore_flags.tolist() == [False, True]
    assert gt.faces_of(1)[0].shape == (0, 4)


def _entries(objects, name='1.jpg', size=((10, ), (10, ), (3, ))):
    entries = np.empty((1, 1), dtype=[('imgname', 'O'), ('imgsize', 'O'),
                                      ('objects', 'O'), ('flags', 'O')])
    entries[0, 0] = (np.array([name]), np.array(size), objects,
                     np.zeros((1, 1)))
    return entries


def test_four_column_objects_read_as_not_ignored(tmp_path):
    # the toolkit pads (K, 4) rows with ignore = 0
    savemat(str(tmp_path / 'a.mat'),
            {'Annotations': _entries(np.array([[0, 0, 40, 40]]))})
    gt = load_face_eval_gt(tmp_path / 'a.mat')
    assert gt.ignore_flags.tolist() == [False]


@pytest.mark.parametrize('make,match', [
    (lambda p: p.write_text('not a mat file'), 'not a readable MATLAB'),
    (lambda p: savemat(str(p), {'anno': np.zeros(3)}),
     'no variable "Annotations"'),
    (lambda p: savemat(str(p), {'Annotations': np.zeros((2, 1))}),
     'not a struct array'),
    (lambda p: savemat(str(p), {
        'Annotations': _entries(np.array([[0, 0, 40, 40, 0]]))
    }), r"Annotations\(1\) \(1.jpg\): field 'objects' should be K x 6"),
    (lambda p: savemat(str(p), {
        'Annotations': _entries(np.array([[0, 0, 40, 40, 0, 0]]),
                                size=((0, ), (10, ), (3, )))
    }), "field 'imgsize'"),
    (lambda p: savemat(str(p), {
        'Annotations': _entries(np.array([[0, 0, np.nan, 40, 0, 0]]))
    }), "field 'objects' holds NaN"),
    (lambda p: savemat(str(p), {
        'Annotations': _entries(np.array(['a', 'b'], dtype=object))
    }), "field 'objects' is not numeric"),
])
def test_bad_annotation_files_name_file_and_field(tmp_path, make, match):
    path = tmp_path / 'bad.mat'
    make(path)
    with pytest.raises(ValueError, match=match) as err:
        load_face_eval_gt(path)
    assert str(path) in str(err.value)


def test_duplicate_image_keys_and_missing_file(tmp_path):
    write_face_eval_gt(tmp_path / 'd.mat', ['a.jpg', 'a.png'],
                       [[10, 10]] * 2, [np.zeros((0, 4))] * 2)
    with pytest.raises(ValueError, match="image key 'a'"):
        load_face_eval_gt(tmp_path / 'd.mat')
    with pytest.raises(FileNotFoundError, match='missing.mat'):
        load_face_eval_gt(tmp_path / 'missing.mat')


def test_detection_file_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    names = ['24795717', '2008_002251.jpg'] * 50
    scores = rng.normal(size=100)
    boxes = rng.uniform(-5, 900, (100, 4))
    path = tmp_path / 'sub' / 'dets.txt'
    write_face_eval_dets(path, names, scores, boxes)
    dets = read_face_eval_dets(path)
    assert dets.names.tolist() == names
    assert dets.keys.tolist() == ['24795717', '2008_002251'] * 50
    np.testing.assert_array_equal(dets.scores, scores)  # exact
    np.testing.assert_array_equal(dets.boxes, boxes)
    assert dets.lines.tolist() == list(range(1, 101))


def test_detection_file_blank_lines_and_integers(tmp_path):
    path = tmp_path / 'd.txt'
    path.write_text('a 1 0 0 40 40\n\n  \nb.jpg -2.5 1 2 3 4\n')
    dets = read_face_eval_dets(path)
    assert dets.keys.tolist() == ['a', 'b']
    assert dets.lines.tolist() == [1, 4]
    assert dets.scores.tolist() == [1.0, -2.5]
    empty = tmp_path / 'e.txt'
    empty.write_text('')
    assert len(read_face_eval_dets(empty)) == 0


@pytest.mark.parametrize('text,line,match', [
    ('a 1 0 0 40 40\nb 1 0 0 40\n', 2, 'expected 6 fields'),
    ('a 1 0 0 40 40 7\n', 1, 'expected 6 fields'),
    ('a 1 0 0 40 40\n\nb x 0 0 40 40\n', 3, 'not a number'),
    ('a 1 0 0 40 40\nb nan 0 0 40 40\n', 2, 'NaN or infinite'),
    ('a 1 0 0 inf 40\n', 1, 'NaN or infinite'),
])
def test_bad_detection_lines_name_file_and_line(tmp_path, text, line, match):
    path = tmp_path / 'dets.txt'
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as err:
        read_face_eval_dets(path)
    assert f'{path}, line {line}:' in str(err.value)


def test_missing_detection_file_and_bad_names(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        read_face_eval_dets(tmp_path / 'nope.txt')
    with pytest.raises(ValueError, match='without spaces'):
        write_face_eval_dets(tmp_path / 'x.txt', ['a b'], [1.], [[0, 0, 1,
                                                                 1]])
