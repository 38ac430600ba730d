# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDBDataset built from config dicts on the real fold files with
generated images in the official layout."""
from pathlib import Path

import numpy as np
import pytest

from oracles.fddb_reference import FDDB_FOLDS, write_fddb_subset  # noqa: E402

from mmengine.registry import init_default_scope  # noqa: E402

init_default_scope('mmdet')

pytest.importorskip('cv2')


@pytest.fixture(scope='module')
def fddb_root(tmp_path_factory):
    if not FDDB_FOLDS.is_dir():
        pytest.skip(f'FDDB annotations not found at {FDDB_FOLDS}')
    root = tmp_path_factory.mktemp('fddb_ds')
    _, _, sizes = write_fddb_subset(root, per_fold=5, folds=(1, 2, 10))
    return root, sizes


def _build(**kwargs):
    from mmdet.registry import DATASETS
    return DATASETS.build(dict(type='FDDBDataset', pipeline=[], **kwargs))


def test_reads_folds_with_ellipses_and_boxes(fddb_root):
    root, sizes = fddb_root
    ds = _build(data_root=str(root))
    assert len(ds) == 15
    info = ds[0]
    assert info['img_id'] == '2002/08/11/big/img_591' and info['fold'] == 1
    assert info['img_path'] == str(root / 'originalPics' /
                                   '2002/08/11/big/img_591.jpg')
    np.testing.assert_allclose(info['gt_ellipses'][0],
                               [123.5833, 85.5495, 1.265839, 269.6934,
                                161.7812])
    inst = info['instances'][0]
    x1, y1, x2, y2 = inst['bbox']
    # the tight box of the ellipse: centred on it, within its major radius
    assert (x1 + x2) / 2 == pytest.approx(269.6934)
    assert (y1 + y2) / 2 == pytest.approx(161.7812)
    assert 2 * 85.5495 <= x2 - x1 <= 2 * 123.5833
    assert inst['bbox_label'] == 0 and inst['ignore_flag'] == 0
    assert info['height'] is None
    assert ds.get_cat_ids(0) == [0] * len(info['instances'])


def test_fold_choice_and_image_sizes(fddb_root):
    root, sizes = fddb_root
    ds = _build(data_root=str(root), folds=[10, 2], read_image_size=True)
    assert len(ds) == 10
    assert [ds[i]['fold'] for i in range(len(ds))] == [2] * 5 + [10] * 5
    info = ds[3]
    assert (info['height'], info['width']) == sizes[info['img_id']]


def test_loading_pipeline_gives_boxes(fddb_root):
    from mmdet.registry import DATASETS
    root, _ = fddb_root
    ds = DATASETS.build(
        dict(type='FDDBDataset', data_root=str(root), folds=1,
             pipeline=[dict(type='LoadImageFromFile'),
                       dict(type='LoadAnnotations', with_bbox=True),
                       dict(type='PackDetInputs')]))
    out = ds[0]
    assert out['data_samples'].gt_instances.bboxes.shape == (1, 4)
    assert out['inputs'].shape[0] == 3


def test_missing_images_and_bad_files(fddb_root, tmp_path):
    root, _ = fddb_root
    with pytest.raises(FileNotFoundError,
                       match=r'FDDB-folds: 15 of 15 images are missing, '
                       r'e\.g\. .*nowhere/2002/08/11/big/img_591\.jpg'):
        _build(data_root=str(root), data_prefix=dict(img='nowhere/'))
    (root / 'originalPics' / '2002/08/11/big/img_591.jpg').rename(
        tmp_path / 'moved.jpg')
    try:
        ds = _build(data_root=str(root), folds=1, on_missing_image='skip')
        assert len(ds) == 4
        with pytest.raises(FileNotFoundError, match='img_591.jpg'):
            _build(data_root=str(root), folds=1)
    finally:
        (tmp_path / 'moved.jpg').rename(root / 'originalPics' /
                                        '2002/08/11/big/img_591.jpg')
    bad = tmp_path / 'bad'
    bad.mkdir()
    (bad / 'FDDB-fold-01-ellipseList.txt').write_text(
        '2002/08/11/big/img_591\n1\n10 5 0.1 20\n')
    with pytest.raises(ValueError, match='ellipseList.txt: line 3'):
        _build(data_root=str(root), ann_dir=str(bad))
    with pytest.raises(ValueError, match="on_missing_image must be 'error' "
                       "or 'skip', got 'warn'"):
        _build(data_root=str(root), on_missing_image='warn')


def test_fddb_test_config_builds_dataset_and_metric(fddb_root):
    from mmdet.registry import DATASETS, METRICS
    from mmengine.config import Config
    root, _ = fddb_root
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] /
                              'configs/hambox/hambox_r50_fpn_fddb_test.py'))
    assert cfg.test_evaluator.type == 'FDDBMetric'
    assert cfg.model.test_cfg.score_thr <= 0.02
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = str(root)
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 15
    out = ds[0]
    assert out['data_samples'].img_id == '2002/08/11/big/img_591'
    assert 'ori_shape' in out['data_samples'].metainfo
    metric = METRICS.build(
        dict(cfg.test_evaluator, folds_dir=str(root / 'FDDB-folds')))
    assert len(metric.gt) == 15
