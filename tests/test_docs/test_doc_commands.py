# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The documentation's commands can run and its links resolve.

Every command line in the ``bash`` / ``shell`` / ``sh`` code blocks of
README.md and docs/**/*.md (line continuations joined, comments dropped,
``&&`` / ``;`` / ``|`` chains split, ``VAR=value``, ``nice``, ``taskset``,
``timeout`` and ``env`` prefixes removed) that runs a repository script is
checked, without running the job itself:

- ``python SCRIPT ...`` (any ``python``, e.g. ``.venv/bin/python``): the
  script exists and ``python SCRIPT --help`` exits 0 (a subprocess with the
  repository's python, cwd the repository root; each script once, all in
  parallel);
- ``python -m MODULE ...``: ``python -m MODULE --help`` exits 0;
- ``bash SCRIPT ...`` / ``sh SCRIPT`` / ``path/to/script.sh``: the file
  exists and ``bash -n`` passes;
- ``mim train|test hambox_mmdet CONFIG ...``: the config is found in
  ``configs/`` (by name, as mim finds it, or by path), loads with mmengine's
  ``Config.fromfile`` (custom imports included) and takes its
  ``--cfg-options`` (every parent key must exist);
- ``mim run hambox_mmdet NAME ...``: ``tools/**/NAME.py`` exists and
  answers ``--help``.

Commands of other programs (pip, git, nvidia-smi, ...) run no repository
script and are not checked. Any other form fails: the test must learn to
check it, or it goes into ``ALLOW_LIST`` with its reason. The allow-list is
for commands that need a GPU, a checkpoint we do not have or the network,
and every entry must still match a command.

Every relative markdown link in those files must point to an existing file
(and, for a link into a markdown file with ``#anchor``, to one of its
headings).
"""
import json
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC_FILES = [REPO / 'README.md'] + sorted((REPO / 'docs').rglob('*.md'))
SHELL_LANGS = {'bash', 'shell', 'sh'}
PACKAGE = 'hambox_mmdet'

# (regex searched in the normalised command, reason). Only what cannot be
# checked on a CPU machine without data, checkpoints or the network.
ALLOW_LIST: List[Tuple[str, str]] = [
    (r"^python -c .*device='cuda'",
     'inline check that mmcv.ops.nms runs on a CUDA tensor: needs a GPU and '
     'mmcv built with CUDA ops (tools/setup_env.sh --cuda runs the same '
     'check)'),
]

# Programs that run no repository script: not checked.
EXTERNAL = {
    'pip', 'pip3', 'git', 'cd', 'export', 'source', 'ls', 'cat', 'head',
    'tail', 'mkdir', 'cp', 'mv', 'rm', 'ln', 'echo', 'wget', 'curl', 'tar',
    'unzip', 'conda', 'nvidia-smi', 'nvcc', 'tensorboard', 'docker', 'grep',
    'sed', 'awk', 'sort', 'wc', 'tee', 'true', 'exit'
}
# Wrappers before the real command (their options are dropped with them).
WRAPPERS = {'nice', 'taskset', 'timeout', 'env', 'exec', 'time'}
PYTHON_RE = re.compile(r'(^|/)python(3(\.\d+)?)?$')
CONTROL = {'&&', '||', ';', '|', '&', '|&'}
REDIRECT_RE = re.compile(r'^[0-9]*(<|>|>>|>&|<&|&>)$')


@dataclass
class Command:
    doc: str  # README.md or docs/...
    line: int  # first line of the command in the file
    text: str  # normalised: wrappers removed, words joined by spaces
    argv: List[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f'{self.doc}:{self.line}'


# --------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------
def code_blocks(path: Path):
    """Yield ``(lang, first_line_no, lines)`` of the fenced code blocks."""
    lang, start, body = None, 0, []
    for no, line in enumerate(
            path.read_text(encoding='utf-8').splitlines(), 1):
        stripped = line.strip()
        if lang is None:
            if stripped.startswith('```'):
                lang = stripped[3:].strip().split(' ')[0].lower() or '-'
                start, body = no + 1, []
        elif stripped.startswith('```'):
            yield lang, start, body
            lang = None
        else:
            body.append(line)
    assert lang is None, f'{path}: unclosed code block from line {start - 1}'


def strip_comment(line: str) -> str:
    """Drop a shell comment: ``#`` at the start of a word, outside quotes."""
    quote, prev = None, ' '
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
            elif ch == '\\' and quote == '"':
                pass
        elif ch in '\'"':
            quote = ch
        elif ch == '#' and prev in ' \t':
            return line[:i].rstrip()
        prev = ch
    return line.rstrip()


def logical_lines(lines: List[str], first: int):
    """Join ``\\`` continuations; yield ``(line_no, text)``."""
    buf, start = '', None
    for offset, raw in enumerate(lines):
        code = strip_comment(raw)
        if start is None:
            start = first + offset
        if code.endswith('\\'):
            buf += code[:-1] + ' '
            continue
        buf += code
        if buf.strip():
            yield start, buf.strip()
        buf, start = '', None
    if buf.strip():
        yield start, buf.strip()


def split_words(text: str) -> List[str]:
    lex = shlex.shlex(text, posix=True, punctuation_chars=';&|<>')
    lex.whitespace_split = True
    lex.commenters = ''
    return list(lex)


def strip_wrappers(argv: List[str]) -> List[str]:
    """Remove ``VAR=value`` words and ``nice -n 19``-style wrappers."""
    argv = list(argv)
    while argv:
        word = argv[0]
        if re.match(r'^[A-Za-z_][A-Za-z0-9_]*=', word):
            argv.pop(0)
            continue
        if word not in WRAPPERS:
            break
        argv.pop(0)
        took_operand = False
        while argv and argv[0].startswith('-'):
            opt = argv.pop(0)
            if opt in ('-n', '-c', '--cpu-list', '-s', '--signal', '-k',
                       '--kill-after') and argv:
                argv.pop(0)
                took_operand = took_operand or opt in ('-c', '--cpu-list')
        if word == 'timeout' or (word == 'taskset' and not took_operand):
            if argv:
                argv.pop(0)  # the duration / the CPU mask
    return argv


def simple_commands(words: List[str]) -> List[List[str]]:
    """Split a word list at control operators; cut redirections."""
    out, cur = [], []
    for word in words + [';']:
        if word in CONTROL:
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(word)
    cleaned = []
    for cmd in out:
        kept, skip = [], False
        for i, word in enumerate(cmd):
            if skip:
                skip = False
                continue
            if REDIRECT_RE.match(word):
                skip = True
                continue
            if word.isdigit() and i + 1 < len(cmd) and REDIRECT_RE.match(
                    cmd[i + 1]):
                continue  # the 2 of 2>&1
            kept.append(word)
        cleaned.append(kept)
    return cleaned


def doc_commands() -> List[Command]:
    commands = []
    for path in DOC_FILES:
        rel = path.relative_to(REPO).as_posix()
        for lang, first, body in code_blocks(path):
            if lang not in SHELL_LANGS:
                continue
            for no, text in logical_lines(body, first):
                for argv in simple_commands(split_words(text)):
                    argv = strip_wrappers(argv)
                    if argv:
                        commands.append(Command(rel, no, ' '.join(argv), argv))
    return commands


COMMANDS = doc_commands()


# --------------------------------------------------------------------------
# Classification: what to check for one command
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    kind: str  # help | bash_n | config | external | allowed | unknown
    target: Tuple = ()  # help: argv tail; bash_n: path; config: (p, opts)
    why: str = ''


def allowed(cmd: Command) -> Optional[str]:
    for pattern, reason in ALLOW_LIST:
        if re.search(pattern, cmd.text):
            return reason
    return None


def find_config(name: str) -> Optional[Path]:
    path = REPO / name
    if path.is_file():
        return path
    hits = sorted((REPO / 'configs').rglob(Path(name).name))
    return hits[0] if len(hits) == 1 else None


def cfg_options(args: List[str]) -> Tuple[Tuple[str, str], ...]:
    """The ``--cfg-options k=v ...`` words of a mim / tools command."""
    opts, inside = [], False
    for word in args:
        if word == '--cfg-options':
            inside = True
        elif word.startswith('--'):
            inside = False
        elif inside:
            key, _, value = word.partition('=')
            opts.append((key, value))
    return tuple(opts)


def classify(cmd: Command) -> Check:
    reason = allowed(cmd)
    if reason:
        return Check('allowed', why=reason)
    argv = cmd.argv
    prog = argv[0]
    if PYTHON_RE.search(prog):
        if len(argv) < 2:
            return Check('unknown', why='python without a script')
        if argv[1] == '-m' and len(argv) > 2:
            return Check('help', ('-m', argv[2]))
        if argv[1].startswith('-'):
            return Check('unknown',
                         why=f'python {argv[1]}: not a script; '
                         'check it in this test or allow-list it')
        script = REPO / argv[1]
        if not script.is_file():
            return Check('missing', (argv[1], ))
        return Check('help', (argv[1], ))
    if prog in ('bash', 'sh'):
        if len(argv) < 2 or argv[1].startswith('-'):
            return Check('unknown', why=f'{prog} without a script file')
        return Check('bash_n', (argv[1], ))
    if prog == 'mim':
        sub = argv[1] if len(argv) > 1 else ''
        if sub in ('train', 'test') and len(argv) > 3:
            if argv[2] != PACKAGE:
                return Check('unknown', why=f'mim {sub} of {argv[2]}')
            return Check('config', (argv[3], cfg_options(argv[4:])))
        if sub == 'run' and len(argv) > 3 and argv[2] == PACKAGE:
            hits = sorted((REPO / 'tools').rglob(argv[3] + '.py'))
            if len(hits) != 1:
                return Check('missing', (f'tools/**/{argv[3]}.py', ))
            return Check('help', (hits[0].relative_to(REPO).as_posix(), ))
        return Check('unknown', why=f'mim {sub}: no check for it')
    if '/' in prog and (REPO / prog).is_file():
        if prog.endswith('.py'):
            return Check('help', (prog, ))
        return Check('bash_n', (prog, ))
    if prog in EXTERNAL:
        return Check('external')
    return Check('unknown', why=f'{prog}: unknown program')


# --------------------------------------------------------------------------
# Running the checks: all --help runs and config loads at once, in parallel
# --------------------------------------------------------------------------
CONFIG_LOADER = r'''
import argparse, json, sys
from mmengine.config import Config, DictAction
out = {}
for name, opts in json.loads(sys.argv[1]):
    key = json.dumps([name, opts])
    try:
        cfg = Config.fromfile(name)
        for path, value in opts:  # every parent key must exist
            node = cfg
            for part in path.split('.')[:-1]:
                node = node[int(part) if isinstance(node, list) else part]
        if opts:
            p = argparse.ArgumentParser()
            p.add_argument('--cfg-options', nargs='+', action=DictAction)
            words = ['%s=%s' % tuple(kv) for kv in opts]
            cfg.merge_from_dict(
                p.parse_args(['--cfg-options', *words]).cfg_options)
        out[key] = 'ok:' + cfg.model.type if 'model' in cfg else 'ok'
    except Exception as e:  # noqa
        out[key] = 'error: %s: %s' % (type(e).__name__, e)
print('@@RESULT@@' + json.dumps(out), flush=True)
'''


def _run(args: List[str], timeout: float = 900) -> Tuple[int, str]:
    """Run the repository's python; the generous timeout is for a loaded
    machine (each run takes a few seconds of CPU)."""
    try:
        proc = subprocess.run([sys.executable, *args],
                              cwd=REPO,
                              capture_output=True,
                              text=True,
                              timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return -1, f'timed out after {timeout} s: {e}'
    return proc.returncode, proc.stdout + proc.stderr


@lru_cache(maxsize=None)
def run_all() -> Dict:
    """Run every distinct ``--help`` and load every config, in parallel."""
    checks = [classify(c) for c in COMMANDS]
    helps = sorted({c.target for c in checks if c.kind == 'help'})
    configs = sorted({c.target for c in checks if c.kind == 'config'})
    jobs = {('help', t): [*t, '--help'] for t in helps}
    resolved = []
    for name, opts in configs:
        path = find_config(name)
        if path is not None:
            resolved.append([str(path), [list(kv) for kv in opts]])
    if resolved:
        jobs[('configs', )] = ['-c', CONFIG_LOADER, json.dumps(resolved)]
    # one run per core: a loaded machine then still finishes each run
    # well inside its timeout
    workers = max(2, min(8, os.cpu_count() or 2))
    with ThreadPoolExecutor(workers) as pool:
        futures = {key: pool.submit(_run, args) for key, args in jobs.items()}
        results = {key: f.result() for key, f in futures.items()}
    config_results = {}
    if ('configs', ) in results:
        rc, out = results.pop(('configs', ))
        marker = out.rfind('@@RESULT@@')
        if rc == 0 and marker >= 0:
            config_results = json.loads(
                out[marker + len('@@RESULT@@'):].splitlines()[0])
        else:  # every config check reports the loader's failure
            config_results = {
                json.dumps(key):
                f'error: the config loader failed (rc {rc})'
                f':\n{out[-3000:]}'
                for key in resolved
            }
    return {'help': results, 'configs': config_results}


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------
def test_commands_were_found():
    """The extraction sees the README's two commands and the docs' tools."""
    texts = [c.text for c in COMMANDS if c.doc == 'README.md']
    assert 'bash tools/quickstart.sh' in texts
    assert 'bash tools/run_tests.sh' in texts
    kinds = {classify(c).kind for c in COMMANDS}
    assert {'help', 'bash_n', 'config'} <= kinds, kinds
    assert len(COMMANDS) >= 20


def test_extraction_handles_shell_syntax():
    lines = [
        '# a comment line',
        'FOO=1 nice -n 19 python tools/x.py a#b \\',
        '    --opt "quoted # not a comment" # trailing comment',
        'taskset -c 0 .venv/bin/python bench/y.py && bash z.sh >l 2>&1',
        'pip list | tee l; mim test hambox_mmdet c.py --cfg-options a.b=1',
    ]
    got = []
    for no, text in logical_lines(lines, 1):
        for argv in simple_commands(split_words(text)):
            got.append((no, strip_wrappers(argv)))
    assert got == [
        (2, ['python', 'tools/x.py', 'a#b', '--opt',
             'quoted # not a comment']),
        (4, ['.venv/bin/python', 'bench/y.py']),
        (4, ['bash', 'z.sh']),
        (5, ['pip', 'list']),
        (5, ['tee', 'l']),
        (5, ['mim', 'test', 'hambox_mmdet', 'c.py', '--cfg-options', 'a.b=1']),
    ]
    assert cfg_options(got[-1][1][4:]) == (('a.b', '1'), )


def test_allow_list_entries_are_used():
    """No stale allow-list entry: each still matches a documented command."""
    for pattern, reason in ALLOW_LIST:
        assert reason
        assert any(re.search(pattern, c.text) for c in COMMANDS), pattern


@pytest.mark.parametrize('cmd', COMMANDS, ids=[c.id for c in COMMANDS])
def test_doc_command_can_run(cmd: Command):
    check = classify(cmd)
    where = f'{cmd.id}: {cmd.text}'
    if check.kind == 'allowed':
        pytest.skip(f'allow-listed: {check.why}')
    if check.kind == 'external':
        return
    assert check.kind != 'unknown', f'{where}: {check.why}'
    assert check.kind != 'missing', f'{where}: {check.target[0]} not found'
    if check.kind == 'bash_n':
        script = REPO / check.target[0]
        assert script.is_file(), f'{where}: no such file'
        proc = subprocess.run(['bash', '-n', str(script)],
                              capture_output=True,
                              text=True)
        assert proc.returncode == 0, f'{where}: bash -n: {proc.stderr}'
    elif check.kind == 'help':
        rc, out = run_all()['help'][('help', check.target)]
        assert rc == 0, f'{where}: --help exited {rc}:\n{out[-3000:]}'
        assert 'usage' in out.lower(), f'{where}: --help printed:\n{out}'
    elif check.kind == 'config':
        name, opts = check.target
        path = find_config(name)
        assert path is not None, (
            f'{where}: config {name} not found (exactly once) under '
            'configs/')
        key = json.dumps([str(path), [list(kv) for kv in opts]])
        result = run_all()['configs'][key]
        assert result.startswith('ok'), f'{where}: {result}'


LINK_RE = re.compile(r'(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')


def github_anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped,
    spaces to hyphens."""
    text = re.sub(r'`([^`]*)`', r'\1', heading.strip().lower())
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path: Path) -> set:
    found, fence = set(), False
    for line in path.read_text(encoding='utf-8').splitlines():
        if line.strip().startswith('```'):
            fence = not fence
        elif not fence and re.match(r'^#{1,6} ', line):
            base = github_anchor(line.lstrip('#'))
            name, n = base, 0
            while name in found:
                n += 1
                name = f'{base}-{n}'
            found.add(name)
    return found


def doc_links():
    links = []
    for path in DOC_FILES:
        fence = False
        for no, line in enumerate(
                path.read_text(encoding='utf-8').splitlines(), 1):
            if line.strip().startswith('```'):
                fence = not fence
                continue
            if fence:
                continue
            line = re.sub(r'``[^`]*``', '', line)
            for target in LINK_RE.findall(line):
                if re.match(r'^[a-z][a-z0-9+.-]*:', target):
                    continue  # https:, mailto:
                links.append((path, no, target))
    return links


LINKS = doc_links()


def test_links_were_found():
    assert len(LINKS) >= 30
    assert any(t == 'docs/README.md' for _, _, t in LINKS)


@pytest.mark.parametrize(
    'path,no,target',
    LINKS,
    ids=[f'{p.relative_to(REPO).as_posix()}:{n}:{t}' for p, n, t in LINKS])
def test_relative_link_exists(path: Path, no: int, target: str):
    where = f'{path.relative_to(REPO).as_posix()}:{no}: ({target})'
    file_part, _, anchor = target.partition('#')
    dest = (path.parent / file_part).resolve() if file_part else path
    assert dest.exists(), f'{where}: {dest} does not exist'
    assert REPO in dest.parents or dest == REPO, f'{where}: outside the repo'
    if anchor and dest.suffix == '.md':
        assert anchor in anchors(dest), (
            f'{where}: no heading with anchor #{anchor} in {dest.name}')


def test_github_anchor():
    assert github_anchor(' Results on real WIDER FACE images') == \
        'results-on-real-wider-face-images'
    assert github_anchor(' Quick start: the two commands') == \
        'quick-start-the-two-commands'
    assert github_anchor(' AFW and PASCAL Face') == 'afw-and-pascal-face'
    assert github_anchor(' Registering `hambox_mmdet`') == \
        'registering-hambox_mmdet'
