# Copyright (c) hambox_mmdet contributors. All rights reserved.
import pickle

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import hambox_mmdet.datasets  # noqa: F401  (registers the components)
from hambox_mmdet.datasets import WIDER_ATTR_NAMES, WIDERFaceTxtDataset
from mmdet.registry import DATASETS

init_default_scope('mmdet')

SPLITS = dict(train=1239, val=243)  # images present in the shared folder


def _cfg(root, split, **kwargs):
    cfg = dict(
        type='WIDERFaceTxtDataset',
        data_root=str(root),
        ann_file=f'wider_face_split/wider_face_{split}_bbx_gt.txt',
        data_prefix=dict(img=f'WIDER_{split}/images/'),
        pipeline=[])
    cfg.update(kwargs)
    return cfg


@pytest.mark.parametrize('split', ['train', 'val'])
def test_skip_missing_images_keeps_exactly_the_present_ones(
        wider_root, naive_count, split):
    dataset = DATASETS.build(_cfg(wider_root, split, on_missing_image='skip'))
    assert isinstance(dataset, WIDERFaceTxtDataset)
    assert len(dataset) == SPLITS[split]

    # Independently: the images on disk, and the faces the file gives them.
    img_dir = wider_root / f'WIDER_{split}' / 'images'
    on_disk = {
        str(p.relative_to(img_dir).with_suffix(''))
        for p in img_dir.glob('*/*.jpg')
    }
    assert len(on_disk) == SPLITS[split]
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert {info['img_id'] for info in infos} == on_disk

    naive = naive_count(wider_root / 'wider_face_split' /
                        f'wider_face_{split}_bbx_gt.txt')
    order = [p[:-len('.jpg')] for p in naive['paths']]
    assert [info['img_id'] for info in infos] == \
        [p for p in order if p in on_disk]


def test_missing_image_error_names_the_file(wider_root):
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(_cfg(wider_root, 'train'))
    message = str(err.value)
    # The first image of the file, whose event is not in the shared folder.
    assert '0--Parade/0_Parade_marchingband_1_849.jpg' in message
    assert '11641 of 12880' in message


def test_data_info_layout(wider_root, monkeypatch):
    # data_root may start with "~".
    monkeypatch.setenv('HOME', str(wider_root.parent))
    dataset = DATASETS.build(
        _cfg('~/' + wider_root.name, 'val', on_missing_image='skip'))
    info = dataset.get_data_info(0)
    name = '13--Interview/13_Interview_Interview_2_People_Visible_13_36'
    assert info['img_id'] == name
    assert info['img_path'] == str(wider_root / 'WIDER_val' / 'images' /
                                   f'{name}.jpg')
    num = len(info['gt_bboxes'])
    assert info['gt_bboxes'].shape == (num, 4)
    assert info['gt_bboxes'].dtype == np.float32
    assert info['gt_bboxes_labels'].dtype == np.int64
    assert (info['gt_bboxes_labels'] == 0).all()
    assert info['gt_ignore_flags'].dtype == bool
    assert set(info['gt_face_attrs']) == set(WIDER_ATTR_NAMES)
    for values in info['gt_face_attrs'].values():
        assert values.shape == (num, )
    assert info['height'] is None and info['width'] is None
    assert dataset.metainfo['classes'] == ('face', )
    assert dataset.get_cat_ids(0) == [0] * num

    # Ignored faces are the invalid and zero-size ones, and they are kept.
    total = ignored = 0
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        b, attrs = info['gt_bboxes'], info['gt_face_attrs']
        expected = (attrs['invalid'] == 1) | (b[:, 2] <= b[:, 0]) | \
            (b[:, 3] <= b[:, 1])
        np.testing.assert_array_equal(info['gt_ignore_flags'], expected)
        total += len(b)
        ignored += int(expected.sum())
    assert ignored > 0
    # Survives pickling (multi-process data loading).
    assert len(pickle.loads(pickle.dumps(dataset))) == len(dataset)
    assert total == 1244  # faces of the 243 val images present (awk count)


def test_filter_empty_gt(tmp_path):
    root = tmp_path / 'wider'
    (root / 'wider_face_split').mkdir(parents=True)
    names = ['0--A/all_ignored', '0--A/normal', '0--A/no_face', '0--A/one']
    for name in names:
        (root / 'WIDER_train' / 'images' / name).parent.mkdir(
            parents=True, exist_ok=True)
        (root / 'WIDER_train' / 'images' / f'{name}.jpg').write_bytes(b'')
    (root / 'wider_face_split' / 'wider_face_train_bbx_gt.txt').write_text(
        '0--A/all_ignored.jpg\n2\n1 1 5 5 0 0 0 1 0 0 \n1 1 0 5 0 0 0 0 0 0 \n'
        '0--A/normal.jpg\n1\n1 1 5 5 0 0 0 0 0 0 \n'
        '0--A/no_face.jpg\n0\n0 0 0 0 0 0 0 0 0 0 \n'
        '0--A/one.jpg\n1\n0 0 0 0 0 0 0 0 0 0 \n')
    cfg = _cfg(root, 'train')
    assert len(DATASETS.build(cfg)) == 4
    kept = DATASETS.build(
        dict(cfg, filter_cfg=dict(filter_empty_gt=True, min_size=0)))
    assert [kept.get_data_info(i)['img_id']
            for i in range(len(kept))] == ['0--A/normal']
    assert len(
        DATASETS.build(dict(cfg, filter_cfg=dict(filter_empty_gt=False)))) == 4
    assert len(
        DATASETS.build(
            dict(cfg, test_mode=True,
                 filter_cfg=dict(filter_empty_gt=True)))) == 4


def test_file_list_gives_images_without_annotations(wider_root, tmp_path):
    img_dir = wider_root / 'WIDER_val' / 'images'
    rel = sorted(str(p.relative_to(img_dir))
                 for p in img_dir.glob('*/*.jpg'))[:20]
    list_file = tmp_path / 'my_filelist.txt'
    list_file.write_text('\n'.join(rel) + '\n')
    dataset = DATASETS.build(
        dict(
            type='WIDERFaceTxtDataset',
            ann_file=str(list_file),
            data_prefix=dict(img=str(img_dir)),
            test_mode=True,
            pipeline=[]))
    assert dataset.ann_format_used == 'filelist'
    assert len(dataset) == 20
    info = dataset.get_data_info(3)
    assert info['img_id'] == rel[3][:-len('.jpg')]
    assert info['gt_bboxes'].shape == (0, 4)
    # Every image of the real test list is absent here: a clear error.
    with pytest.raises(FileNotFoundError, match='16097 of 16097'):
        DATASETS.build(
            dict(
                type='WIDERFaceTxtDataset',
                data_root=str(wider_root),
                ann_file='wider_face_split/wider_face_test_filelist.txt',
                data_prefix=dict(img='WIDER_test/images/'),
                on_missing_image='skip',
                test_mode=True))


def test_bad_arguments():
    with pytest.raises(ValueError, match='on_missing_image'):
        WIDERFaceTxtDataset(ann_file='x.txt', on_missing_image='maybe')
    with pytest.raises(ValueError, match='ann_format'):
        WIDERFaceTxtDataset(ann_file='x.txt', ann_format='coco')


def test_missing_annotations_name_the_generation_command(tmp_path):
    root = tmp_path / 'nothing_here_yet'
    cfg = _cfg(root, 'train')
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(cfg)
    message = str(err.value)
    assert 'wider_face_train_bbx_gt.txt not found' in message
    assert f'tools/misc/make_tiny_widerface.py {root}' in message
    assert not root.exists()  # a dataset only reads


def test_reads_the_generated_set_without_writing(synthetic_root):
    before = {p: p.stat().st_mtime_ns for p in synthetic_root.rglob('*')}
    for split, num in (('train', 24), ('val', 12)):
        dataset = DATASETS.build(_cfg(synthetic_root, split))
        assert len(dataset) == num
    assert {p: p.stat().st_mtime_ns
            for p in synthetic_root.rglob('*')} == before
