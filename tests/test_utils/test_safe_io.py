# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""hambox_mmdet.safe_io: the rules every tool's outputs follow (atomic
replacement, outputs never inputs, marker folders), issue #21."""
import json
import os

import pytest

from hambox_mmdet.safe_io import (atomic_output, check_new_output,
                                  check_not_inputs, claim_output_dir,
                                  write_json, write_text)


def test_atomic_output_keeps_the_old_file_when_the_block_fails(tmp_path):
    out = tmp_path / 'model.onnx'
    out.write_text('old model')
    with pytest.raises(RuntimeError, match='verification failed'):
        with atomic_output(str(out)) as tmp:
            assert tmp.endswith('.onnx') and os.path.dirname(tmp) == str(
                tmp_path)
            with open(tmp, 'w') as f:
                f.write('unverified')
            raise RuntimeError('verification failed')
    assert out.read_text() == 'old model'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.onnx']
    with atomic_output(str(out)) as tmp:
        with open(tmp, 'w') as f:
            f.write('new model')
    assert out.read_text() == 'new model'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.onnx']


def test_an_output_may_not_be_an_input(tmp_path):
    video = tmp_path / 'clip.mp4'
    video.write_bytes(b'x')
    (tmp_path / 'link.mp4').symlink_to(video)
    for out in (video, tmp_path / 'sub' / '..' / 'clip.mp4',
                tmp_path / 'link.mp4'):
        with pytest.raises(ValueError, match='is the input'):
            check_not_inputs([str(out)], [str(video)])
    check_not_inputs([str(tmp_path / 'clip.json')], [str(video)])


def test_existing_outputs_need_overwrite(tmp_path):
    out = tmp_path / 'aps.json'
    check_new_output(str(out), overwrite=False)
    out.write_text('{}')
    with pytest.raises(FileExistsError, match='pass --overwrite'):
        check_new_output(str(out), overwrite=False)
    check_new_output(str(out), overwrite=True)
    with pytest.raises(IsADirectoryError):
        check_new_output(str(tmp_path), overwrite=True)


def test_claim_output_dir_refuses_foreign_data(tmp_path):
    foreign = tmp_path / 'photos'
    foreign.mkdir()
    (foreign / 'a.jpg').write_bytes(b'x')
    with pytest.raises(FileExistsError, match=r'did not write.*a\.jpg'):
        claim_output_dir(str(foreign), '.m.json', 'the tool')
    assert sorted(p.name for p in foreign.iterdir()) == ['a.jpg']
    new = tmp_path / 'new'
    assert claim_output_dir(str(new), '.m.json', 'the tool') is False
    (new / 'out.txt').write_text('ours')
    assert claim_output_dir(str(new), '.m.json', 'the tool') is True
    assert json.loads((new / '.m.json').read_text())['written_by'] == \
        'the tool'


def test_json_refuses_nan(tmp_path):
    out = tmp_path / 'aps.json'
    with pytest.raises(ValueError, match='NaN'):
        write_json(str(out), dict(easy=float('nan')))
    assert not out.exists()
    write_text(str(out), 'x')
    write_json(str(out), dict(easy=0.5))
    assert json.loads(out.read_text()) == dict(easy=0.5)
