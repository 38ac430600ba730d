# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The outer-face recall of ``unmatched_anchor_analysis.py --gt-dir`` is the
metric's: the same numbers as ``WIDERFaceMetric(outer_face_recall=...)`` in
mmengine's test loop, on a checkpoint (one implementation underneath)."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'analysis_tools' / 'unmatched_anchor_analysis.py'
TINY = REPO / 'configs' / 'hambox' / 'hambox_r18_fpn_tiny_widerface.py'
NUM_IMAGES = 4


def load_tool():
    spec = importlib.util.spec_from_file_location('unmatched_tool', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.mark.slow
def test_tool_equals_metric_in_the_test_loop(tiny_data, tmp_path,
                                             monkeypatch):
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    import hambox_mmdet  # noqa: F401
    init_default_scope('mmdet')
    monkeypatch.setenv('HAMBOX_TINY_DATA', str(tiny_data))
    cfg = Config.fromfile(str(TINY))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():  # scores near 0.5: many final detections
        model.bbox_head.retina_cls.bias.zero_()
    ckpt = tmp_path / 'model.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    gt_dir = tiny_data / 'eval_tools' / 'ground_truth'
    subset = f'test_dataloader.dataset.indices={NUM_IMAGES}'

    out_json = tmp_path / 'tool.json'
    load_tool().main([
        str(TINY), str(ckpt), '--gt-dir', str(gt_dir), '--score-thr', '0.3',
        '--json', str(out_json), '--cfg-options', subset
    ])
    tool = json.loads(out_json.read_text())
    tables = tool['outer_face_recall']

    cfg.merge_from_dict({'test_dataloader.dataset.indices': NUM_IMAGES})
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_evaluator.update(
        only_present_images=True,
        outer_face_recall=dict(
            score_thr=0.3,
            anchor_generator=cfg.model.bbox_head.anchor_generator))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = str(ckpt)
    metrics = Runner.from_cfg(cfg).test()

    assert set(tables) == {'score>=0.3', 'hard_best_f1'}
    compared = 0
    for point, table in tables.items():
        assert metrics[f'widerface/outer/{point}/score_thr'] == \
            pytest.approx(table['score_thr'])
        for group, prefix in (('by_d', 'D'), ('by_size', 'size')):
            for name, entry in table[group].items():
                key = f'widerface/outer/{point}/{prefix}{name}'
                assert metrics[key + '_faces'] == entry['faces']
                if entry['recall'] is None:
                    assert key not in metrics
                else:
                    assert metrics[key] == pytest.approx(entry['recall'])
                    compared += 1
    assert compared >= 6
    assert sum(e['faces'] for e in tables['score>=0.3']['by_d'].values()) \
        > 0
    assert tool['wider_aps']['hard'] == pytest.approx(
        metrics['widerface/hard'])
