# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""benchmarks/ablation_real_wider.py: its summary on hand-made runs, its
arguments, and a smoke run on the real WIDER FACE images of ../shared."""
import copy
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'benchmarks' / 'ablation_real_wider.py'


def load_script():
    spec = importlib.util.spec_from_file_location('ablation_real_wider',
                                                  SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(seed, easy, medium, hard, iters=100):
    return dict(seed=seed, easy=easy, medium=medium, hard=hard, iters=iters)


def test_tiny_baseline_differs_only_in_strategy():
    """The two models of the ablation: only assigner, head type and
    classification loss differ."""
    from mmengine.config import Config
    ham = Config.fromfile(str(REPO / 'configs' / 'hambox' /
                              'hambox_r18_fpn_tiny_widerface.py'))
    base = Config.fromfile(str(REPO / 'configs' / 'baselines' /
                               'retinanet_r18_fpn_tiny_widerface.py'))
    assert ham.model.bbox_head.type == 'HAMBoxHead'
    assert ham.model.train_cfg.assigner.type == 'HAMBoxAssigner'
    assert base.model.bbox_head.type == 'RetinaHead'
    assert base.model.bbox_head.loss_cls.type == 'FocalLoss'
    assigner = base.model.train_cfg.assigner
    assert assigner.type == 'MaxIoUAssigner'
    assert (assigner.pos_iou_thr, assigner.neg_iou_thr) == (0.35, 0.35)
    assert assigner.match_low_quality is False
    # HAMBox's stage 1 is the baseline's matching
    for key in ('pos_iou_thr', 'neg_iou_thr', 'match_low_quality',
                'ignore_iof_thr'):
        assert ham.model.train_cfg.assigner[key] == assigner[key], key
    for key in ('backbone', 'neck', 'data_preprocessor', 'test_cfg'):
        assert ham.model[key] == base.model[key], key
    strip = ('type', 'loss_cls')
    assert {k: v for k, v in ham.model.bbox_head.items() if k not in strip} \
        == {k: v for k, v in base.model.bbox_head.items() if k not in strip}
    for c in ('alpha', 'gamma', 'use_sigmoid', 'loss_weight'):
        assert ham.model.bbox_head.loss_cls[c] == \
            base.model.bbox_head.loss_cls[c], c
    for key in ('train_dataloader', 'test_dataloader', 'optim_wrapper',
                'param_scheduler', 'train_cfg', 'test_evaluator'):
        assert ham[key] == base[key], key


def test_summary_mean_spread_and_reading():
    ab = load_script()
    models = {
        'hambox': [run(0, .50, .40, .20), run(1, .54, .44, .30)],
        'baseline': [run(0, .50, .30, .21), run(1, .52, .32, .23),
                     dict(seed=2, error='exit code 1')],
    }
    s = ab.summarise(models)
    assert s['hambox']['runs'] == 2 and s['baseline']['failed'] == 1
    assert s['hambox']['easy']['mean'] == pytest.approx(.52)
    assert s['hambox']['easy']['std'] == pytest.approx(math.sqrt(2) * .02)
    d = s['hambox_minus_baseline']
    # medium: +0.11, stds 0.0283 + 0.0141: outside the spread
    assert d['medium']['diff'] == pytest.approx(.11)
    assert d['medium']['outside_spread'] is True
    # easy: +0.01 inside 0.0283 + 0.0141; hard: +0.03 inside 0.0707 + 0.0141
    assert d['easy']['outside_spread'] is False
    assert d['hard']['outside_spread'] is False
    table = ab.markdown(s, ['hambox', 'baseline'])
    assert '| hambox | 2 | 52.0 ± 2.8 |' in table
    assert '+11.0 (outside the seed spread' in table
    assert '+1.0 (inside the seed spread' in table


def test_summary_single_seed_has_no_spread():
    ab = load_script()
    s = ab.summarise({'hambox': [run(0, .5, .5, .5)],
                      'baseline': [run(0, .4, .4, .4)]})
    assert s['hambox']['easy']['std'] is None
    assert s['hambox_minus_baseline']['easy']['outside_spread'] is None
    assert '+10.0 |' in ab.markdown(s, ['hambox', 'baseline'])


@pytest.mark.parametrize('argv, message', [
    ([], 'give a training budget'),
    (['--iters', '0'], 'must be positive'),
    (['--iters', '5', '--models', 'hambox,foo'], 'unknown'),
    (['--iters', '5', '--parallel', '0'], 'at least 1'),
])
def test_bad_arguments(argv, message, capsys):
    ab = load_script()
    with pytest.raises(SystemExit) as exc:
        ab.parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_variants_switch_off_one_part_of_hambox():
    ab = load_script()
    args = ab.parse_args(['--iters', '5', '--models',
                          'hambox_focal,hambox_noignore,baseline'])
    assert args.models == ['hambox_focal', 'hambox_noignore', 'baseline']
    from mmengine.config import Config
    losses = {}
    for name in ('hambox_focal', 'hambox_noignore'):
        base, overrides = ab.VARIANTS[name]
        cfg = Config.fromfile(ab.CONFIGS[base])
        cfg.merge_from_dict(copy.deepcopy(overrides))
        assert cfg.model.bbox_head.type == 'HAMBoxHead'
        assert cfg.model.train_cfg.assigner.type == 'HAMBoxAssigner'
        losses[name] = cfg.model.bbox_head.loss_cls
    assert dict(losses['hambox_focal']) == dict(
        type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
        loss_weight=1.0)
    assert losses['hambox_noignore'].type == 'RegressionAwareFocalLoss'
    assert losses['hambox_noignore'].ignore_reg_iou_thr is None


def variant_cfg(ab, name):
    from mmengine.config import Config
    base, overrides = ab.VARIANTS[name]
    cfg = Config.fromfile(ab.CONFIGS[base])
    cfg.merge_from_dict(copy.deepcopy(overrides))
    return cfg


def test_root_cause_variants_change_one_part_each():
    """The normaliser per term, the IoU weight and the ignore rule."""
    ab = load_script()
    shipped = variant_cfg(ab, 'hambox_noignore').model.bbox_head
    assert shipped.loss_cls.com_normalizer == 'joint'
    expected = {
        # name: (cls normaliser, box normaliser or None = cls's, F_i, ignore)
        'hambox_separate': ('separate', None, True, 0.5),
        'hambox_separate_cls': ('separate', 'joint', True, 0.5),
        'hambox_separate_bbox': ('joint', 'separate', True, 0.5),
        'hambox_separate_no_iou_weight': ('separate', None, False, 0.5),
        'hambox_separate_noignore': ('separate', None, True, None),
        'hambox_no_iou_weight': ('joint', None, False, 0.5),
        'hambox_noignore': ('joint', None, True, None),
    }
    for name, (cls, box, weighted, ignore) in expected.items():
        head = variant_cfg(ab, name).model.bbox_head
        loss = head.loss_cls
        got = (loss.com_normalizer, head.get('bbox_com_normalizer'),
               loss.iou_weighted, loss.ignore_reg_iou_thr)
        assert got == (cls, box, weighted, ignore), name


def test_assigners_users_would_pick_instead():
    ab = load_script()
    lq = variant_cfg(ab, 'maxiou_lq').model
    assert lq.bbox_head.type == 'RetinaHead'
    assert lq.train_cfg.assigner.type == 'MaxIoUAssigner'
    assert lq.train_cfg.assigner.match_low_quality is True
    assert lq.train_cfg.assigner.min_pos_iou == 0.0
    assert lq.train_cfg.assigner.pos_iou_thr == 0.35
    atss = variant_cfg(ab, 'atss').model
    assert atss.bbox_head.type == 'HAMBoxHead'
    assert atss.bbox_head.loss_cls.type == 'FocalLoss'
    assert dict(atss.train_cfg.assigner) == dict(
        type='LevelATSSAssigner', topk=9, ignore_iof_thr=0.5)


def test_collect_pairs_runs_by_seed(tmp_path, capsys):
    """--collect: means, spreads and per-seed differences, by hand."""
    ab = load_script()
    values = {('hambox', 0): (.50, .40, .30), ('hambox', 1): (.60, .50, .40),
              ('baseline', 0): (.48, .41, .27),
              ('baseline', 1): (.57, .52, .36),
              ('baseline', 2): (.10, .10, .10)}
    for (model, seed), (e, m, h) in values.items():
        d = tmp_path / f'{model}_seed{seed}'
        d.mkdir()
        (d / 'result.json').write_text(json.dumps(run(seed, e, m, h)))
    (tmp_path / 'notarun').mkdir()
    out = tmp_path / 'table.json'
    ab.main(['--collect', str(tmp_path), '--json', str(out)])
    table = json.loads(out.read_text())['models']
    assert table['baseline']['seeds'] == [0, 1, 2]
    diff = table['baseline']['easy']['diff_vs_reference']
    assert diff['seeds'] == [0, 1]  # seed 2 has no HAMBox partner
    assert diff['values'] == pytest.approx([-2., -3.])
    assert diff['mean'] == pytest.approx(-2.5)
    assert diff['std'] == pytest.approx(math.sqrt(0.5))
    assert table['hambox']['hard']['mean'] == pytest.approx(35.)
    assert 'diff_vs_reference' not in table['hambox']['hard']
    assert '| baseline | 0,1,2 |' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='no finished run'):
        ab.main(['--collect', str(tmp_path / 'notarun')])


def test_missing_data_root_is_named(tmp_path):
    ab = load_script()
    with pytest.raises(SystemExit) as exc:
        ab.check_data_root(str(tmp_path))
    assert str(tmp_path) in str(exc.value)
    assert 'wider_face_train_bbx_gt.txt' in str(exc.value)


@pytest.mark.slow
def test_smoke_run_on_real_wider(wider_root, tmp_path):
    """Both models, 2 iterations, 2 val images: the JSON layout."""
    out = tmp_path / 'ablation.json'
    cmd = [
        sys.executable, str(SCRIPT), '--smoke', '--iters', '2',
        '--max-val-images', '2', '--workers', '0', '--log-interval', '1',
        '--device', 'cpu', '--threads', '1', '--data-root', str(wider_root),
        '--work-dir', str(tmp_path / 'work'), '--json', str(out)
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert 'only_present_images=True' in proc.stdout
    data = json.loads(out.read_text())
    assert data['only_present_images'] is True
    assert data['train_images']['present'] == 1239
    assert data['val_images']['present'] == 243
    assert data['val_images']['evaluated'] == 2
    assert data['budget']['iters'] == 2 and data['budget']['smoke']
    assert set(data['models']) == {'hambox', 'baseline'}
    for model, runs in data['models'].items():
        assert len(runs) == 1, runs
        r = runs[0]
        assert r['seed'] == 0 and r['iters'] == 2, r
        assert r['train_images'] == 1239 and r['val_images'] == 2
        for key in ('easy', 'medium', 'hard'):
            assert 0 <= r[key] <= 1
        assert r['minutes'] > 0
        assert Path(r['checkpoint']).is_file()
    # the means over training of the statistics HAMBoxHead logs
    mining = data['models']['hambox'][0]['mining']
    assert set(mining) == set(load_script().MINING_KEYS), mining
    assert all(math.isfinite(v) and v >= 0 for v in mining.values())
    assert 0 <= mining['compensated_reg_iou'] <= 1
    assert data['models']['baseline'][0]['mining'] is None
    assert data['summary']['hambox']['runs'] == 1
    assert '| hambox | 1 |' in data['markdown']
