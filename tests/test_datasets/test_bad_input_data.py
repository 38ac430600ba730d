# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Bad inputs of the data tools (issue #21, docs/bad_input.md): the
annotation readers and the generated-set writer."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from hambox_mmdet.datasets.wider_face_parser import (detect_wider_ann_format,
                                                     parse_wider_bbx_gt,
                                                     parse_wider_filelist)

MAKE_TINY_TOOL = (Path(__file__).resolve().parents[2] / 'tools' / 'misc' /
                  'make_tiny_widerface.py')
FACE = '1 2 3 4 0 0 0 0 0 0 '


# ------------------------------------------------------ annotation readers
def test_bad_count_is_named_on_its_line(tmp_path):
    """``12a`` on a count line used to switch the reader to the file-list
    format, whose error then blamed line 3."""
    ann = tmp_path / 'bbx_gt.txt'
    ann.write_text(f'0--Parade/a.jpg\n12a\n{FACE}\n')
    assert detect_wider_ann_format(ann) == 'bbx_gt'
    with pytest.raises(ValueError, match=r"line 2: expected the face count.*"
                       r"'12a'"):
        parse_wider_bbx_gt(ann)
    # a real file list is still one
    files = tmp_path / 'filelist.txt'
    files.write_text('0--Parade/a.jpg\n0--Parade/b.jpg\n')
    assert detect_wider_ann_format(files) == 'filelist'


def test_non_utf8_text_names_file_and_line(tmp_path):
    ann = tmp_path / 'bbx_gt.txt'
    ann.write_bytes(b'0--Parade/a.jpg\n1\n' + FACE.encode() + b'\n'
                    b'0--Parade/\xe9t\xe9.jpg\n0\n')
    for read in (parse_wider_bbx_gt, detect_wider_ann_format,
                 parse_wider_filelist):
        with pytest.raises(ValueError,
                           match=r'bbx_gt\.txt, line 4: .* not UTF-8'):
            read(ann)


def test_mat_file_as_ann_file_says_so(tmp_path):
    mat = tmp_path / 'wider_face_val.mat'
    savemat(str(mat), dict(event_list=np.zeros((1, 1))))
    for read in (parse_wider_bbx_gt, detect_wider_ann_format):
        with pytest.raises(ValueError, match='is a MATLAB .mat file, not a '
                           'text annotation file'):
            read(mat)


def test_image_listed_twice_names_both_lines(tmp_path):
    ann = tmp_path / 'bbx_gt.txt'
    ann.write_text(f'0--Parade/a.jpg\n1\n{FACE}\n0--Parade/b.jpg\n0\n'
                   f'0 0 0 0 0 0 0 0 0 0\n0--Parade/a.jpg\n1\n{FACE}\n')
    with pytest.raises(ValueError, match=r"line 7: image '0--Parade/a.jpg' "
                       r'is listed again \(first on line 1\)'):
        parse_wider_bbx_gt(ann)
    files = tmp_path / 'filelist.txt'
    files.write_text('0--Parade/a.jpg\n\n0--Parade/b.jpg\n0--Parade/a.jpg\n')
    with pytest.raises(ValueError, match=r'line 4: .*first on line 1'):
        parse_wider_filelist(files)


def test_dataset_reports_a_mat_ann_file(tmp_path):
    from mmdet.registry import DATASETS

    import hambox_mmdet  # noqa: F401
    mat = tmp_path / 'wider_face_val.mat'
    savemat(str(mat), dict(event_list=np.zeros((1, 1))))
    with pytest.raises(ValueError, match='MATLAB .mat file'):
        DATASETS.build(
            dict(type='WIDERFaceTxtDataset', data_root=str(tmp_path),
                 ann_file='wider_face_val.mat', pipeline=[],
                 data_prefix=dict(img='WIDER_val/images/')))


# ---------------------------------------------------- the generated set
def _partial_download(root):
    """Real-looking WIDER FACE: images and eval_tools, split not unpacked."""
    img = root / 'WIDER_val' / 'images' / '0--Parade'
    img.mkdir(parents=True)
    (img / '0_Parade_marchingband_1_465.jpg').write_bytes(b'real image')
    gt = root / 'eval_tools' / 'ground_truth'
    gt.mkdir(parents=True)
    for name in ('wider_face_val', 'wider_easy_val', 'wider_medium_val',
                 'wider_hard_val'):
        (gt / f'{name}.mat').write_bytes(b'official ' + name.encode())
    return sorted(p for p in root.rglob('*'))


def test_generator_refuses_a_partial_download(tmp_path, make_tiny):
    """Its guard used to look only for wider_face_split/: it replaced the
    official ground truth and mixed images into the real event folders."""
    before = _partial_download(tmp_path)
    snapshot = {p: p.read_bytes() for p in before if p.is_file()}
    with pytest.raises(FileExistsError,
                       match=r'not generated here.*WIDER_val, eval_tools.*'
                       'refusing to overwrite'):
        make_tiny.make_tiny_widerface(str(tmp_path), num_train=2, num_val=2)
    assert sorted(tmp_path.rglob('*')) == before
    assert {p: p.read_bytes() for p in snapshot} == snapshot
    proc = subprocess.run(
        [sys.executable, str(MAKE_TINY_TOOL), str(tmp_path), '--num-train',
         '2', '--num-val', '2'], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert proc.stderr.startswith('error: ') and 'eval_tools' in proc.stderr
    assert sorted(tmp_path.rglob('*')) == before


def test_generator_refuses_any_foreign_file(tmp_path, make_tiny):
    (tmp_path / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='notes.txt'):
        make_tiny.make_tiny_widerface(str(tmp_path), num_train=2, num_val=2)
    assert [p.name for p in tmp_path.iterdir()] == ['notes.txt']
    # an empty folder is fine, and so is its own set again
    empty = tmp_path / 'empty'
    empty.mkdir()
    kwargs = dict(num_train=2, num_val=2, img_size=(64, 64))
    make_tiny.make_tiny_widerface(str(empty), **kwargs)
    make_tiny.make_tiny_widerface(str(empty), **kwargs)
    assert not [p for p in empty.rglob('*') if '.tmp-' in p.name]


def test_anchor_stats_outputs_never_replace_anything(tmp_path):
    """A sibling of the evaluators' --json: anchor_stats.py wrote over any
    file, its annotation file included."""
    tool = (Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools'
            / 'anchor_stats.py')
    ann = tmp_path / 'bbx_gt.txt'
    ann.write_text(f'0--Parade/a.jpg\n1\n{FACE}\n')
    before = ann.read_text()

    def run(*args):
        return subprocess.run([sys.executable, str(tool), str(ann), *args],
                              capture_output=True, text=True, timeout=300)

    proc = run('--json', str(ann), '--overwrite')
    assert proc.returncode == 1 and 'is the input' in proc.stderr
    assert ann.read_text() == before
    out = tmp_path / 'stats.json'
    out.write_text('earlier')
    proc = run('--json', str(out))
    assert proc.returncode == 1 and 'pass --overwrite' in proc.stderr
    assert out.read_text() == 'earlier'
    proc = run('--json', str(out), '--overwrite')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(out.read_text())['num_faces'] == 1
