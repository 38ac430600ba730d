# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""tools/misc/make_tiny_widerface.py: the generated face set (the module
comes from the ``make_tiny`` fixture of tests/conftest.py)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import loadmat

from hambox_mmdet.datasets.wider_face_parser import (WIDER_ATTR_NAMES,
                                                     parse_wider_bbx_gt)

MAKE_TINY_TOOL = (Path(__file__).resolve().parents[2] / 'tools' / 'misc' /
                  'make_tiny_widerface.py')
SETTINGS = ('easy', 'medium', 'hard')
LABEL_KEYS = tuple(f'{name}_label_list' for name in WIDER_ATTR_NAMES)


def _mat_layout(mat: dict) -> dict:
    """The structure of a WIDER ground-truth .mat: keys, cell shapes, types.

    Returns:
        dict: key -> set of ``(depth, kind, dtype, ndim, columns)``
        describing every leaf, so two files can be compared.
    """
    layout = {}
    for key, value in mat.items():
        if key.startswith('__'):
            continue
        assert value.dtype == object and value.ndim == 2, key
        assert value.shape[1] == 1, key
        leaves = set()
        for event in value[:, 0]:
            if key == 'event_list':
                leaves.add(('str', event.dtype.kind, event.shape))
                continue
            assert event.dtype == object and event.ndim == 2, key
            assert event.shape[1] == 1, key
            for leaf in event[:, 0]:
                if key == 'file_list':
                    leaves.add(('str', leaf.dtype.kind, leaf.shape))
                elif key == 'gt_list':
                    leaves.add(
                        ('gt', leaf.dtype.str if leaf.size else 'empty',
                         leaf.ndim, leaf.shape[1] if leaf.size else None))
                else:
                    leaves.add(
                        ('array', leaf.dtype.str, leaf.ndim, leaf.shape[1]))
        layout[key] = leaves
    return layout


def test_generated_files(synthetic_root, make_tiny):
    root = synthetic_root
    stats = json.loads((root / make_tiny.MANIFEST).read_text())['stats']
    for split, num in (('train', 24), ('val', 12)):
        anns = parse_wider_bbx_gt(root / 'wider_face_split' /
                                  f'wider_face_{split}_bbx_gt.txt')
        assert anns.num_images == num
        assert anns.num_faces == stats[f'num_faces_{split}']
        for rel in anns.img_paths:
            assert (root / f'WIDER_{split}' / 'images' / rel).is_file()
        # Some empty images, some ignored (invalid or zero-size) faces.
        assert (anns.num_faces_per_image == 0).any()
        assert anns.num_faces_per_image.max() <= 15
        assert anns.ignore_flags().any()
        faces = anns.bboxes[~anns.ignore_flags()]
        sizes = np.sqrt(np.prod(faces[:, 2:] - faces[:, :2], axis=1))
        assert sizes.min() >= 10 and sizes.max() <= 160
    text = (root / 'wider_face_split' /
            'wider_face_train_bbx_gt.txt').read_text().splitlines()
    face_lines = [line for line in text if len(line.split()) == 10]
    assert all(line.endswith(' ') for line in face_lines)
    # Both encodings of an image without faces.
    for i, line in enumerate(text):
        if line.endswith('.jpg') and text[i + 2] == '0 ' * 10:
            assert text[i + 1] in ('0', '1')
    assert {
        text[i + 1]
        for i, line in enumerate(text)
        if line.endswith('.jpg') and text[i + 2] == '0 ' * 10
    } == {'0', '1'}


def test_ground_truth_mat_matches_the_official_structure(
        synthetic_root, wider_root, make_tiny):
    real_dir = wider_root / 'eval_tools' / 'ground_truth'
    ours_dir = synthetic_root / 'eval_tools' / 'ground_truth'
    anns = parse_wider_bbx_gt(synthetic_root / 'wider_face_split' /
                              'wider_face_val_bbx_gt.txt')
    for name in ['wider_face_val'] + [f'wider_{s}_val' for s in SETTINGS]:
        real = loadmat(str(real_dir / f'{name}.mat'))
        ours = loadmat(str(ours_dir / f'{name}.mat'))
        real_layout, our_layout = _mat_layout(real), _mat_layout(ours)
        assert set(real_layout) == set(our_layout), name
        for key in real_layout:
            # Every kind of leaf we write is one the official file has.
            assert our_layout[key] <= real_layout[key], (name, key)

    # Content: the boxes and labels of the text file, in the same order.
    full = loadmat(str(ours_dir / 'wider_face_val.mat'))
    paths, boxes, labels = [], [], {k: [] for k in LABEL_KEYS}
    for e, event in enumerate(full['event_list'][:, 0]):
        for f, file_name in enumerate(full['file_list'][e, 0][:, 0]):
            paths.append(f'{event[0]}/{file_name[0]}.jpg')
            boxes.append(full['face_bbx_list'][e, 0][f, 0])
            for key in LABEL_KEYS:
                labels[key].append(full[key][e, 0][f, 0])
    assert paths == anns.img_paths
    for i, record in enumerate(anns):
        xywh = boxes[i].astype(np.float32)
        if len(record['bboxes']) == 0:
            assert xywh.shape[0] == 0 or not xywh.any()
            continue
        xywh[:, 2:] += xywh[:, :2]
        np.testing.assert_array_equal(xywh, record['bboxes'])
        for name, key in zip(WIDER_ATTR_NAMES, LABEL_KEYS):
            np.testing.assert_array_equal(labels[key][i][:, 0], record[name])

    # Settings: nested, invalid and zero-size faces in none, sizes as set.
    kept = {}
    for setting in SETTINGS:
        mat = loadmat(str(ours_dir / f'wider_{setting}_val.mat'))
        kept[setting] = set()
        offset = 0
        for e in range(mat['gt_list'].shape[0]):
            for f in range(mat['gt_list'][e, 0].shape[0]):
                bbx = mat['face_bbx_list'][e, 0][f, 0]
                invalid = mat['invalid_label_list'][e, 0][f, 0][:, 0]
                index = mat['gt_list'][e, 0][f, 0].ravel().astype(int) - 1
                assert (index >= 0).all() and (index < len(bbx)).all()
                assert (invalid[index] == 0).all()
                size = np.sqrt(bbx[index, 2] * bbx[index, 3].astype(float))
                assert (size >= make_tiny.SETTING_MIN_SIZES[setting]).all()
                kept[setting] |= {(offset, int(k)) for k in index}
                offset += 1
    assert kept['easy'] and kept['easy'] < kept['medium'] < kept['hard']


def test_gt_list_types_follow_matlab(make_tiny):
    _gt_list = make_tiny._gt_list
    faces = np.zeros((300, 10), np.int64)
    faces[:, 2:4] = 30
    assert _gt_list(faces, 10).dtype == np.uint16
    assert _gt_list(faces[:200], 10).dtype == np.uint8
    assert _gt_list(faces[:200], 10).shape == (200, 1)
    assert _gt_list(faces[:1], 100).shape == (0, 0)
    assert _gt_list(faces[:5], 100).shape == (0, 1)


def test_generation_is_deterministic(tmp_path, make_tiny):
    kwargs = dict(num_train=5, num_val=4, img_size=(96, 80), seed=11)
    first = make_tiny.make_tiny_widerface(str(tmp_path / 'a'), **kwargs)
    second = make_tiny.make_tiny_widerface(str(tmp_path / 'b'), **kwargs)
    assert first == second
    files_a = sorted(
        p.relative_to(tmp_path / 'a') for p in (tmp_path / 'a').rglob('*')
        if p.is_file())
    files_b = sorted(
        p.relative_to(tmp_path / 'b') for p in (tmp_path / 'b').rglob('*')
        if p.is_file())
    # images, 2 text files, 4 .mat files and the manifest
    assert files_a == files_b and len(files_a) == 5 + 4 + 2 + 4 + 1
    for rel in files_a:
        if rel.suffix == '.mat':  # the header holds the creation time
            a, b = loadmat(str(tmp_path / 'a' / rel)), loadmat(
                str(tmp_path / 'b' / rel))
            assert set(a) == set(b)
            for key in a:
                if not key.startswith('__'):
                    assert repr(a[key]) == repr(b[key])
        else:
            assert (tmp_path / 'a' / rel).read_bytes() == \
                (tmp_path / 'b' / rel).read_bytes(), rel
    other = make_tiny.make_tiny_widerface(
        str(tmp_path / 'c'), **dict(kwargs, seed=12))
    assert (tmp_path / 'c' / 'wider_face_split' /
            'wider_face_train_bbx_gt.txt').read_text() != \
        (tmp_path / 'a' / 'wider_face_split' /
         'wider_face_train_bbx_gt.txt').read_text()
    assert other['num_train'] == 5


def test_skip_existing_and_regeneration(tmp_path, make_tiny):
    root = tmp_path / 'syn'
    kwargs = dict(num_train=3, num_val=2, img_size=(64, 64))
    make_tiny.make_tiny_widerface(str(root), **kwargs)
    txt = root / 'wider_face_split' / 'wider_face_train_bbx_gt.txt'
    manifest = root / make_tiny.MANIFEST
    stamp = (txt.stat().st_mtime_ns, manifest.stat().st_mtime_ns)
    # The same set: nothing is written.
    stats = make_tiny.make_tiny_widerface(
        str(root), skip_existing=True, **kwargs)
    assert (txt.stat().st_mtime_ns, manifest.stat().st_mtime_ns) == stamp
    assert stats['num_train'] == 3 and stats['num_faces_train'] > 0
    # Other parameters: written again (the old images stay, unlisted).
    make_tiny.make_tiny_widerface(
        str(root), skip_existing=True, **dict(kwargs, num_train=4))
    assert parse_wider_bbx_gt(txt).num_images == 4
    assert json.loads(manifest.read_text())['params']['num_train'] == 4
    # An interrupted run (its manifest has no face counts yet) is redone.
    manifest.write_text(
        json.dumps(dict(params=json.loads(manifest.read_text())['params'])))
    make_tiny.make_tiny_widerface(
        str(root), skip_existing=True, **dict(kwargs, num_train=4))
    assert 'stats' in json.loads(manifest.read_text())


def test_refuses_foreign_annotations_and_unknown_arguments(
        tmp_path, make_tiny):
    (tmp_path / 'wider_face_split').mkdir()
    real = tmp_path / 'wider_face_split' / 'wider_face_train_bbx_gt.txt'
    real.write_text('a/b.jpg\n0\n')
    with pytest.raises(FileExistsError, match='refusing to overwrite'):
        make_tiny.make_tiny_widerface(str(tmp_path), num_train=2, num_val=2)
    assert real.read_text() == 'a/b.jpg\n0\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['wider_face_split']
    with pytest.raises(TypeError, match='num_images'):
        make_tiny.make_tiny_widerface(str(tmp_path / 'x'), num_images=3)


def test_command_line(tmp_path, make_tiny):
    out = tmp_path / 'cli'
    result = subprocess.run([
        sys.executable, str(MAKE_TINY_TOOL),
        str(out), '--num-train', '3', '--num-val', '2', '--img-size', '64',
        '64', '--seed', '5'
    ],
                            capture_output=True,
                            text=True,
                            check=True)
    assert '3 train images' in result.stdout
    params = json.loads((out / make_tiny.MANIFEST).read_text())['params']
    assert params == make_tiny._params(
        num_train=3, num_val=2, img_size=(64, 64), seed=5)
    # What the command line leaves out comes from DEFAULTS.
    assert params['faces_per_image'] == list(
        make_tiny.DEFAULTS['faces_per_image'])
