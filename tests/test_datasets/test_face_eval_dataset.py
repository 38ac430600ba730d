# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""``FaceEvalDataset`` on the real AFW / PASCAL Face annotation files, with
generated images in the layout, and on small generated files."""
from pathlib import Path

import mmcv
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from scipy.io import loadmat

from hambox_mmdet.evaluation.face_eval import (
    write_ground_truth as write_face_eval_gt)
from mmdet.registry import DATASETS

init_default_scope('mmdet')
from helpers.face_eval_data import (AFW, FACE_EVAL, PASCAL,  # noqa: E402
                                    needs_face_eval)

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape'))
]


def naive_faces(path):
    """Per image (name, (width, height), [(box, ignored)]), a plain loop."""
    anns = loadmat(str(path))['Annotations']
    out = []
    for i in range(anns.shape[0]):
        entry = anns[i, 0]
        size = entry['imgsize'].ravel()
        faces = []
        for row in entry['objects']:
            small = abs(row[2] - row[0]) < 30 or abs(row[3] - row[1]) < 30
            faces.append(([float(v) for v in row[:4]], int(row[5] != 0
                                                           or small)))
        out.append((str(entry['imgname'][0]), (int(size[0]), int(size[1])),
                    faces))
    return out


def layout(root, ann, folder, names, draw=False):
    """``root/annotations/<ann>`` and ``root/<folder>/<name>`` images:
    empty placeholders, or (``draw``) real-size JPEGs with the faces."""
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    link = root / 'annotations' / Path(ann).name
    if not link.exists():
        link.symlink_to(ann)
    (root / folder).mkdir(exist_ok=True)
    for name, size, faces in names:
        path = root / folder / name
        if not draw:
            path.touch()
            continue
        img = np.full((size[1], size[0], 3), 90, dtype=np.uint8)
        for box, _ in faces:
            x1, y1, x2, y2 = (int(v) for v in box)
            img[max(y1, 0):y2, max(x1, 0):x2] = (60, 140, 220)
        mmcv.imwrite(img, str(path))


@needs_face_eval
def test_real_afw_every_image_and_face(tmp_path):
    faces = naive_faces(AFW)
    layout(tmp_path, AFW, 'AFW', faces)
    dataset = DATASETS.build(
        dict(
            type='FaceEvalDataset',
            data_root=str(tmp_path),
            ann_file='annotations/new_annotations_AFW.mat',
            data_prefix=dict(img='AFW/'),
            test_mode=True))
    assert len(dataset) == 205
    assert dataset.metainfo['classes'] == ('face', )
    total = ignored = 0
    for i, (name, size, ref) in enumerate(faces):
        info = dataset.get_data_info(i)
        assert info['img_path'] == str(tmp_path / 'AFW' / name)
        assert info['img_id'] == name.split('.')[0]
        assert (info['width'], info['height']) == size
        assert [inst['bbox'] for inst in info['instances']] == \
            [box for box, _ in ref]
        assert [inst['ignore_flag'] for inst in info['instances']] == \
            [ign for _, ign in ref]
        assert all(inst['bbox_label'] == 0 for inst in info['instances'])
        total += len(ref)
        ignored += sum(ign for _, ign in ref)
    assert (total, total - ignored) == (545, 473)


@needs_face_eval
def test_real_pascal_pipeline_on_generated_images(tmp_path):
    faces = naive_faces(PASCAL)
    # real-size images for the first six; the others are missing: skipped
    layout(tmp_path, PASCAL, 'PASCAL', faces[:6], draw=True)
    dataset = DATASETS.build(
        dict(
            type='FaceEvalDataset',
            data_root=str(tmp_path),
            ann_file='annotations/' + PASCAL.name,
            data_prefix=dict(img='PASCAL/'),
            on_missing_image='skip',
            test_mode=True,
            pipeline=PIPELINE))
    assert len(dataset) == 6
    for i, (name, (width, height), ref) in enumerate(faces[:6]):
        sample = dataset[i]['data_samples']
        assert sample.ori_shape == (height, width)
        assert dataset[i]['inputs'].shape == (3, height, width)
        kept = [box for box, ign in ref if not ign]
        dropped = [box for box, ign in ref if ign]
        np.testing.assert_allclose(
            sample.gt_instances.bboxes.numpy().reshape(-1, 4),
            np.array(kept).reshape(-1, 4))
        np.testing.assert_allclose(
            sample.ignored_instances.bboxes.numpy().reshape(-1, 4),
            np.array(dropped).reshape(-1, 4))


@needs_face_eval
def test_missing_images_fail_by_default(tmp_path):
    layout(tmp_path, AFW, 'AFW', naive_faces(AFW)[:3])
    with pytest.raises(FileNotFoundError,
                       match=r'202 of 205 images are missing, e\.g\. .*AFW'):
        DATASETS.build(
            dict(
                type='FaceEvalDataset',
                data_root=str(tmp_path),
                ann_file='annotations/new_annotations_AFW.mat',
                data_prefix=dict(img='AFW/')))
    with pytest.raises(FileNotFoundError, match='205 of 205'):
        DATASETS.build(
            dict(
                type='FaceEvalDataset',
                data_root=str(tmp_path),
                ann_file='annotations/new_annotations_AFW.mat',
                data_prefix=dict(img='elsewhere/'),
                on_missing_image='skip'))


def test_generated_file_min_size_and_errors(tmp_path):
    write_face_eval_gt(tmp_path / 'a.mat', ['x.jpg', 'y.jpg'],
                       [[200, 100], [50, 50]],
                       [[[10, 10, 30, 40], [50, 10, 100, 60]],
                        np.zeros((0, 4))], [[0, 0], []])
    (tmp_path / 'x.jpg').touch()
    (tmp_path / 'y.jpg').touch()

    def build(**kwargs):
        return DATASETS.build(
            dict(
                type='FaceEvalDataset',
                ann_file=str(tmp_path / 'a.mat'),
                data_prefix=dict(img=str(tmp_path)),
                **kwargs))

    data = build()
    # 20 px wide: ignored under the default 30 px rule, not under 10 px
    assert [i['ignore_flag'] for i in data[0]['instances']] == [1, 0]
    assert [i['ignore_flag']
            for i in build(min_size=10)[0]['instances']] == [0, 0]
    assert data[1]['instances'] == [] and data.get_cat_ids(0) == [0, 0]
    with pytest.raises(ValueError, match='on_missing_image'):
        build(on_missing_image='warn')
    (tmp_path / 'bad.mat').write_text('no')
    with pytest.raises(ValueError, match='bad.mat: not a readable MATLAB'):
        DATASETS.build(
            dict(type='FaceEvalDataset', ann_file=str(tmp_path / 'bad.mat')))
