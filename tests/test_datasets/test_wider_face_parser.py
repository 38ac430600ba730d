# Copyright (c) hambox_mmdet contributors. All rights reserved.
import time

import numpy as np
import pytest

from hambox_mmdet.datasets.wider_face_parser import (WIDER_ATTR_NAMES,
                                                     detect_wider_ann_format,
                                                     parse_wider_bbx_gt,
                                                     parse_wider_filelist)

# Documented totals of the official files, and what an independent reading of
# them gives (ignored: invalid = 1 or w <= 0 or h <= 0; empty: the images
# written as "1" + an all-zero box).
REAL = dict(
    train=dict(
        images=12880,
        faces=159424,
        ignored=2430,
        empty=4,
        negative_lines=[161871, 177955]),
    val=dict(
        images=3226, faces=39708, ignored=596, empty=4,
        negative_lines=[34471]))


@pytest.mark.parametrize('split', ['train', 'val'])
def test_real_bbx_gt_matches_naive_reading(wider_root, naive_count, split):
    path = wider_root / 'wider_face_split' / f'wider_face_{split}_bbx_gt.txt'
    anns = parse_wider_bbx_gt(path)
    naive = naive_count(path)
    expected = REAL[split]

    # Against the independent line-by-line reading ...
    assert anns.num_images == naive['images']
    assert anns.num_faces == naive['faces']
    assert int(anns.ignore_flags().sum()) == naive['ignored']
    assert anns.img_paths == naive['paths']
    empty = [
        n == 0 or (n == 1 and not rec['bboxes'].any())
        for n, rec in zip(anns.num_faces_per_image, anns)
    ]
    assert sum(empty) == naive['empty']
    # ... and against the documented totals.
    assert anns.num_images == expected['images']
    assert anns.num_faces == expected['faces']
    assert int(anns.ignore_flags().sum()) == expected['ignored']
    assert sum(empty) == expected['empty']
    assert anns.negative_size_lines.tolist() == expected['negative_lines']

    # Shapes and dtypes.
    assert anns.bboxes.shape == (anns.num_faces, 4)
    assert anns.bboxes.dtype == np.float32
    for name in WIDER_ATTR_NAMES:
        assert anns.attrs[name].shape == (anns.num_faces, )
        assert anns.attrs[name].dtype == np.int64
    assert anns.face_offsets[-1] == anns.num_faces
    assert (anns.bboxes[:, 2:] >= anns.bboxes[:, :2]).all()

    # Every face against its own line of the file (x2 = x + w, y2 = y + h).
    lines = path.read_text().splitlines()
    rng = np.random.default_rng(0)
    for row in rng.choice(anns.num_faces, 200, replace=False):
        fields = [int(v) for v in lines[anns.line_numbers[row] - 1].split()]
        x, y, w, h = fields[:4]
        np.testing.assert_array_equal(anns.bboxes[row],
                                      [x, y, x + max(w, 0), y + max(h, 0)])
        assert [anns.attrs[n][row] for n in WIDER_ATTR_NAMES] == fields[4:]


def test_real_first_records(wider_root):
    anns = parse_wider_bbx_gt(wider_root / 'wider_face_split' /
                              'wider_face_train_bbx_gt.txt')
    first = anns[0]
    assert first['img_path'] == '0--Parade/0_Parade_marchingband_1_849.jpg'
    np.testing.assert_array_equal(first['bboxes'], [[449, 330, 571, 479]])
    third = anns[2]
    assert third['img_path'] == '0--Parade/0_Parade_marchingband_1_799.jpg'
    assert len(third['bboxes']) == 21
    # "304 265 16 17 2 0 0 0 2 1" is its 9th face.
    np.testing.assert_array_equal(third['bboxes'][8], [304, 265, 320, 282])
    assert third['occlusion'][8] == 2 and third['pose'][8] == 1
    # The image written as "1" + an all-zero line keeps one ignored face.
    idx = anns.img_paths.index('0--Parade/0_Parade_Parade_0_452.jpg')
    assert anns.num_faces_per_image[idx] == 1
    start = anns.face_offsets[idx]
    assert anns.ignore_flags()[start]


def test_real_parse_is_fast(wider_root):
    path = wider_root / 'wider_face_split' / 'wider_face_train_bbx_gt.txt'
    best = float('inf')
    for _ in range(3):
        start = time.perf_counter()
        parse_wider_bbx_gt(path)
        best = min(best, time.perf_counter() - start)
    assert best < 2.0, f'parsing 12,880 images took {best:.2f} s'


def test_real_test_filelist(wider_root):
    path = wider_root / 'wider_face_split' / 'wider_face_test_filelist.txt'
    img_paths = parse_wider_filelist(path)
    assert len(img_paths) == 16097
    assert img_paths[0] == '0--Parade/0_Parade_marchingband_1_737.jpg'
    assert all(p.endswith('.jpg') and '/' in p for p in img_paths)
    assert detect_wider_ann_format(path) == 'filelist'
    for split in ('train', 'val'):
        assert detect_wider_ann_format(
            wider_root / 'wider_face_split' /
            f'wider_face_{split}_bbx_gt.txt') == 'bbx_gt'


QUIRKS = (
    '0--Parade/a.jpg\n'
    '2\n'
    '10 20 30 40 0 0 0 0 0 0   \n'  # trailing spaces
    '5 5 0 10 1 0 0 0 0 0 \n'  # zero width
    '1--X/empty_zero_line.jpg\n'
    '0\n'
    '0 0 0 0 0 0 0 0 0 0 \n'  # N = 0 placeholder line
    '1--X/empty_no_line.jpg\n'
    '0\n'  # N = 0 without the placeholder
    '1--X/empty_one.jpg\n'
    '1\n'
    '0 0 0 0 0 0 0 0 0 0 \n'  # "1" + an all-zero box
    '2--Y/invalid.jpg\n'
    '  1 \n'
    '1 2 3 4 2 1 1 1 2 1 \n'  # invalid face
    '\n\n')


@pytest.mark.parametrize('newline', ['\n', '\r\n'])
def test_quirks(tmp_path, newline):
    path = tmp_path / 'quirks.txt'
    path.write_bytes(QUIRKS.replace('\n', newline).encode())
    anns = parse_wider_bbx_gt(path)
    assert anns.img_paths == [
        '0--Parade/a.jpg', '1--X/empty_zero_line.jpg',
        '1--X/empty_no_line.jpg', '1--X/empty_one.jpg', '2--Y/invalid.jpg'
    ]
    assert anns.num_faces_per_image.tolist() == [2, 0, 0, 1, 1]
    np.testing.assert_array_equal(
        anns.bboxes,
        [[10, 20, 40, 60], [5, 5, 5, 15], [0, 0, 0, 0], [1, 2, 4, 6]])
    assert anns.ignore_flags().tolist() == [False, True, True, True]
    assert anns.attrs['blur'].tolist() == [0, 1, 0, 2]
    assert anns.attrs['invalid'].tolist() == [0, 0, 0, 1]
    assert anns.attrs['pose'].tolist() == [0, 0, 0, 1]
    assert anns.line_numbers.tolist() == [3, 4, 12, 15]
    assert anns[1]['bboxes'].shape == (0, 4)
    assert anns[-1]['img_path'] == '2--Y/invalid.jpg'


def test_float_coordinates(tmp_path):
    path = tmp_path / 'float.txt'
    path.write_text('a/b.jpg\n1\n1.5 2 3.25 4 0 0 0 0 0 0 \n')
    anns = parse_wider_bbx_gt(path)
    np.testing.assert_allclose(anns.bboxes, [[1.5, 2, 4.75, 6]])


FACE = '1 2 3 4 0 0 0 0 0 0 '
ERRORS = [
    ('bad count', f'a/b.jpg\nx\n{FACE}\n', 2, 'face count'),
    ('float count', f'a/b.jpg\n1.0\n{FACE}\n', 2, 'face count'),
    ('negative count', f'a/b.jpg\n-1\n{FACE}\n', 2, 'face count'),
    ('count missing', 'a/b.jpg\n', 2, 'face count'),
    ('non-numeric', f'a/b.jpg\n2\n{FACE}\n1 2 3 4 0 0 z 0 0 0 \n', 4,
     'illumination'),
    ('nan', f'a/b.jpg\n2\n{FACE}\n1 2 nan 4 0 0 0 0 0 0 \n', 4, "w='nan'"),
    ('nine fields', f'a/b.jpg\n2\n{FACE}\n1 2 3 4 0 0 0 0 0 \n', 4, '9 field'),
    ('9 then 11 fields',
     f'a/b.jpg\n3\n{FACE}\n1 2 3 4 0 0 0 0 0\n1 2 3 4 0 0 0 0 0 0 0\n', 4,
     '9 field'),
    ('truncated at the end', f'a/b.jpg\n1\n{FACE}\nc/d.jpg\n3\n{FACE}\n', 5,
     'truncated'),
    ('fewer lines than N', f'a/b.jpg\n3\n{FACE}\nc/d.jpg\n1\n{FACE}\n', 4,
     'image path'),
    ('more lines than N', f'a/b.jpg\n1\n{FACE}\n{FACE}\nc/d.jpg\n1\n{FACE}\n',
     5, 'face count'),
    ('fractional attribute', 'a/b.jpg\n1\n1 2 3 4 0.5 0 0 0 0 0\n', 3,
     'integer attributes'),
]


@pytest.mark.parametrize(
    'content,line,what', [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_malformed_input_names_file_and_line(tmp_path, content, line, what):
    path = tmp_path / 'broken_bbx_gt.txt'
    path.write_text(content)
    with pytest.raises(ValueError) as err:
        parse_wider_bbx_gt(path)
    message = str(err.value)
    assert str(path) in message
    assert f'line {line}:' in message
    assert what in message


def test_negative_size(tmp_path):
    path = tmp_path / 'negative.txt'
    path.write_text(f'a/b.jpg\n2\n{FACE}\n10 20 -5 8 2 0 0 0 1 0 \n')
    # Default: kept as an ignored zero-width box (the official files hold 3).
    anns = parse_wider_bbx_gt(path)
    np.testing.assert_array_equal(anns.bboxes[1], [10, 20, 10, 28])
    assert anns.ignore_flags().tolist() == [False, True]
    assert anns.negative_size_lines.tolist() == [4]
    with pytest.raises(ValueError, match=r'line 4: expected a non-negative'):
        parse_wider_bbx_gt(path, negative_size='error')


def test_filelist_and_format_detection(tmp_path):
    path = tmp_path / 'list.txt'
    path.write_text('a/b.jpg\n\nc/d.jpg\n  e/f.jpg  \n\n')
    assert parse_wider_filelist(path) == ['a/b.jpg', 'c/d.jpg', 'e/f.jpg']
    assert detect_wider_ann_format(path) == 'filelist'
    bad = tmp_path / 'bad_list.txt'
    bad.write_text('a/b.jpg\nc/d.jpg 3\n')
    with pytest.raises(ValueError, match=r'line 2:'):
        parse_wider_filelist(bad)
    gt = tmp_path / 'gt.txt'
    gt.write_text(f'a/b.jpg\n1\n{FACE}\n')
    assert detect_wider_ann_format(gt) == 'bbx_gt'
