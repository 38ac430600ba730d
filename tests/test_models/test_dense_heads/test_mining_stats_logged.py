# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Training the tiny config for a few iterations writes the five mining
statistics into the log and into vis_data/scalars.json."""
import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs' / 'hambox' / 'hambox_r18_fpn_tiny_widerface.py'
STATS = ('hambox/compensated_per_img', 'hambox/faces_below_k_stage1',
         'hambox/faces_below_k_final', 'hambox/compensated_reg_iou',
         'hambox/ignored_negatives_per_img')
NUM_IMAGES, BATCH = 4, 2


def write_faces(root: Path) -> None:
    """A few images with bright squares as faces, in the official layout."""
    import cv2
    rng = np.random.default_rng(0)
    lines = []
    for i in range(NUM_IMAGES):
        img = rng.integers(0, 60, (160, 192, 3), dtype=np.uint8)
        name = f'0--Test/{i}.jpg'
        faces = []
        for _ in range(int(rng.integers(2, 6))):
            s = int(rng.integers(16, 60))
            x, y = int(rng.integers(0, 192 - s)), int(rng.integers(0, 160 - s))
            img[y:y + s, x:x + s] = 200
            faces.append(f'{x} {y} {s} {s} 0 0 0 0 0 0')
        path = root / 'WIDER_train' / 'images' / name
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), img)
        lines += [name, str(len(faces))] + faces
    ann = root / 'wider_face_split' / 'wider_face_train_bbx_gt.txt'
    ann.parent.mkdir(parents=True)
    ann.write_text('\n'.join(lines) + '\n')


def test_tiny_training_logs_mining_statistics(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner
    data = tmp_path / 'data'
    write_faces(data)
    cfg = Config.fromfile(str(CONFIG))
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = str(data) + '/'
    for transform in dataset.pipeline:  # 160 px crops: a fast test
        if transform['type'] == 'Resize':
            transform['scale'] = (160, 160)
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False,
                                batch_size=BATCH)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.randomness = dict(seed=0)
    # a visualizer of its own: mmdet's runtime names it 'visualizer', and
    # mmengine hands a runner the instance of that name that an earlier
    # runner of this process created, with that runner's save_dir
    cfg.visualizer.name = f'mining_stats_{tmp_path.name}'
    runner = Runner.from_cfg(cfg)
    runner.train()

    scalars = next(Path(cfg.work_dir).rglob('vis_data/scalars.json'))
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    records = [r for r in records if 'loss' in r]
    assert len(records) == NUM_IMAGES // BATCH
    for record in records:
        for key in STATS:
            assert key in record, (key, record)
            assert np.isfinite(record[key])
        assert 0 <= record['hambox/faces_below_k_final'] <= \
            record['hambox/faces_below_k_stage1'] <= 1
        if record['hambox/compensated_per_img'] > 0:
            assert 0.5 <= record['hambox/compensated_reg_iou'] <= 1
    log = next(Path(cfg.work_dir).rglob('*.log')).read_text()
    for key in STATS:
        assert f'{key}: ' in log
    print({k: [r[k] for r in records] for k in STATS})


if __name__ == '__main__':
    pytest.main([__file__, '-s'])
