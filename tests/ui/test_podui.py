#!/usr/bin/env python3
"""End-to-end tests of podui in tmux (issue 12); see tuitest.py.

Usage: test_podui.py [TEST...]  (all when none); meson runs one each.
"""

import os
import re
import signal
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tuitest import (SGR, binary, check, session,  # noqa: E402
                     sgr_colours, wait_exit)

TICK = ['sh', '-c', 'while :; do echo tick; sleep 1; done']
READY = r'running|ready'


def spawn_ui():
    """(1) n, name, cwd, manifest: a real pod with one process; its row
    and its process's row say what podctl says."""
    with session('spawn_ui') as t:
        t.start()
        t.spawn('web', manifest=t.manifest({'tick': TICK}))
        t.wait_pod('web', 'ready')
        row = r'^\W*web\s+ready\s+\d+s\s+1/1\s+(\d+)\s*$'
        s = t.wait(lambda s: re.match(r'podui\s+1 pod\b', s.header) and
                   s.grep(row, s.pods) and pid_of(s, 'tick'),
                   '"1 pod", "web ready AGE 1/1 PID", tick running')
        pod = t.pods()['web']
        check(pod['state'] == 'ready', 'podctl ls: not ready')
        check(int(s.grep(row, s.pods).group(1)) == pod['pid'],
              'the pid of web is not %d' % pod['pid'])
        proc = t.podctl_json('ps', 'web')['processes'][0]
        check(pid_of(s, 'tick') == proc['pid'],
              'the pid of tick is not %d' % proc['pid'])
        t.quit()


def outside():
    """(2) a pod spawned by podctl from outside appears; stopped and
    reaped from outside, it shows stopped, then goes."""
    with session('outside') as t:
        t.start()
        t.podctl('spawn', '-n', 'ext', '-C', t.root)
        t.wait(lambda s: s.pod_row('ext', 'ready') and
               s.has(r'\(no processes\)', s.procs),
               'ext ready, with no processes')
        t.podctl('stop', 'ext')
        t.wait(lambda s: s.pod_row('ext', 'stopped') and
               s.has(r'\(not running\)', s.procs) and
               re.search(r'LOG ext: stderr\.log', s.log_title),
               'ext stopped, not running, its stderr.log')
        t.podctl('reap')
        t.wait(lambda s: s.main_mode() and not s.pod_row('ext'),
               'the row of ext gone')
        t.quit()


def stop_ui():
    """(3) S, y stops the selected pod (in 80x24)."""
    with session('stop_ui', cols=80, rows=24) as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root)
        t.start()
        t.wait_pod('web', 'ready')
        t.keys('S')
        t.wait(lambda s: re.search(r'(?i)stop.*web|y/n', s.status),
               'the stop confirmation')
        t.keys('y')
        t.wait_pod('web', 'stopped')
        state = t.pods().get('web', {}).get('state')
        check(state == 'stopped', 'podctl ls says %s' % state)
        t.quit()


def stop_names_its_pod():
    """The y/n question stops the pod it named, not the selection of the
    moment: the named pod stopped and reaped from outside while the
    question is open, y says so and stops nothing (it stopped the pod
    the selection had moved to)."""
    with session('stop_names_its_pod') as t:
        t.podctl('spawn', '-n', 'aaa', '-C', t.root)
        t.podctl('spawn', '-n', 'bbb', '-C', t.root)
        t.start()
        t.wait_pod('bbb', 'ready')
        t.wait(lambda s: s.has(r'^>\s*aaa\b', s.pods),
               'aaa selected')
        t.keys('S')
        t.wait(lambda s: re.search(r'stop aaa\?', s.status),
               'the question naming aaa')
        t.podctl('stop', 'aaa')
        t.podctl('reap')
        t.wait(lambda s: not s.has(r'^\W*aaa\b', s.pods),
               'aaa gone from the pane')
        t.keys('y')
        t.wait(lambda s: re.search(r'aaa: gone', s.status), '"aaa: gone"')
        state = t.pods().get('bbb', {}).get('state')
        check(state in ('running', 'ready'), 'bbb is %s' % state)
        t.wait_pod('bbb', 'ready')
        t.quit()


def spawn_fail():
    """(4) a failing spawn: its kind and its stderr tail in the log."""
    with session('spawn_fail', pod='mock',
                 mock_args='--exit 3 --message boom') as t:
        t.start()
        t.spawn('bad')
        s = t.wait(lambda s: s.has(r'spawn failed: \w+', s.log) and
                   s.has(r'boom', s.log), '"spawn failed:" and "boom"')
        m = s.grep(r'spawn failed: (\w+)', s.log)
        # exit 3 is the pod's own code of already_running (errors.md)
        check(m.group(1) == 'already_running',
              'kind %s, not already_running' % m.group(1))
        t.wait_pod('bad', 'failed')
        t.quit()


def spawn_fail_real():
    """(4) the real pod refusing its manifest: config and its words."""
    with session('spawn_fail_real') as t:
        bad = os.path.join(t.root, 'bad.toml')
        with open(bad, 'w') as f:
            f.write('[pod]\nnmae = "x"\n')
        t.start()
        t.spawn('bad', manifest=bad)
        t.wait(lambda s: s.has(r'spawn failed: config: ', s.log) and
               s.has(r'unknown key "pod\.nmae"', s.log),
               '"spawn failed: config:" and the pod\'s words')
        t.wait_pod('bad', 'failed')
        t.quit()


def failed_outside():
    """A spawn by someone else that fails while podui watches: its row
    says failed (the spawner's record comes after the pod's end, and
    was no event: the row said stopped)."""
    with session('failed_outside') as t:
        bad = os.path.join(t.root, 'bad.toml')
        with open(bad, 'w') as f:
            f.write('[process.x\n')
        t.start()
        t.podctl('spawn', '-n', 'other', '-C', t.root, '-m', bad, rc=None)
        t.wait_pod('other', 'failed')
        state = t.pods().get('other', {}).get('state')
        check(state == 'failed', 'podctl ls says %s' % state)
        t.quit()


def nul_output():
    """A process that writes a NUL: the line shows (the NUL as ?) and
    the pane goes on following (the whole log read failed as malformed
    JSON)."""
    with session('nul_output') as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root, '-m', t.manifest(
            {'tick': ['sh', '-c', "printf 'nul\\000byte\\n'; "
                      'echo after; exec sleep 1000']}))
        t.start()
        t.wait(lambda s: s.has(r'\bnul.byte\s*$', s.log) and
               s.has(r'\bafter\s*$', s.log), 'nul?byte, then after')
        t.quit()


def scroll():
    """PgUp scrolls the log back (the title says so), G follows again."""
    with session('scroll') as t:
        m = t.manifest({'count': ['sh', '-c',
                                  'seq 1 100; exec sleep 1000']})
        t.podctl('spawn', '-n', 'web', '-C', t.root, '-m', m)
        t.start()
        last = r'\bcount 100\s*$'
        s = t.wait(lambda s: s.log and re.search(last, s.log[-1]),
                   'count 100 at the foot of the log')
        t.keys('PPage')
        # one predicate for the whole change: a capture may fall between
        # two writes of one redraw
        t.wait(lambda s: re.search(r'\(scrolled back \d+\)', s.log_title)
               and not s.has(last, s.log),
               'the title saying scrolled back, count 100 gone')
        t.keys('G')
        t.wait(lambda s: 'scrolled' not in s.log_title and s.log and
               re.search(last, s.log[-1]), 'the end followed again')
        t.quit()


HELP_KEYS = [r'\bq\b', r'\?', r'\bTab\b', r'\bEnter\b', r'\ba\b',
             r'\bPgUp\b', r'\bPgDn\b', r'\bG\b', r'\bn\b', r'\bc\b',
             r'\bS\b', r'\bs\b', r'\bx\b', r'\br\b', r'/', r'\be\b',
             r'\bR\b']


def keys_misc():
    """Help lists every key; Escape cancels the spawn form; n at the
    stop question keeps the pod; the sessions view's columns; a live
    session is not resumed twice."""
    with session('keys_misc', cols=80, rows=24) as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root)
        sid = t.pods()['web']['session_id']
        t.start()
        t.wait_pod('web', 'ready')
        t.keys('?')
        t.wait(lambda s: s.has(r'podui keys') and
               all(s.has(r'^\s*\S*' + k) for k in HELP_KEYS),
               'the help listing every key')
        t.keys('Escape')
        t.wait(lambda s: s.main_mode(), 'the main screen')
        t.keys('n')
        t.prompt(r'spawn name', 'nope')
        t.wait(lambda s: re.search(r'cwd', s.status), 'the cwd prompt')
        t.keys('Escape')
        t.wait(lambda s: re.search(r'\? help', s.status),
               'the key hints again')
        t.keys('S')
        t.wait(lambda s: re.search(r'y/n', s.status), 'the stop question')
        t.keys('n')
        t.wait(lambda s: re.search(r'\? help', s.status) and
               s.pod_row('web', 'ready') and not s.pod_row('nope'),
               'the key hints again, web ready, no pod nope')
        t.keys('e')
        t.wait(lambda s: s.has(r'SESSIONS') and
               s.has(r'^\s*ID\s+NAME\s+CREATED\s+STATE\s+LIVE\s*$') and
               s.has(r'^\W*%s\s+web\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+'
                     r'\w+\s+live\s*$' % sid[:8]),
               'the sessions header, the session of web, live')
        t.keys('Enter')  # resuming a live session: refused, says why
        t.wait(lambda s: s.main_mode() and s.pod_row('web', 'ready') and
               re.search(r'(?i)\blive\b|already.running', s.status),
               'the main screen, web ready, the resume refused')
        check(t.pods()['web']['state'] == 'ready', 'web not ready')
        t.quit()


def mock_pid(s):
    m = s.grep(r'mock-pod: pid (\d+)', s.log)
    return int(m.group(1)) if m else None


def slow_spawn():
    """(5) keys answered while a held mock still starts: help, then the
    release, then ready."""
    with session('slow_spawn', pod='mock', mock_args='--ready-delay -1') as t:
        t.start()
        t.spawn('slow')
        s = t.wait(lambda s: mock_pid(s) and s.pod_row('slow', 'starting'),
                   'the held mock\'s pid in the log, the row starting')
        pid = mock_pid(s)
        t.keys('?')
        t.wait_text(r'podui keys')
        t.keys('Escape')
        t.wait(lambda s: s.main_mode() and s.pod_row('slow', 'starting'),
               'the main screen again, slow still starting')
        os.kill(pid, signal.SIGUSR1)
        t.wait_pod('slow', 'ready')
        t.quit()


def cancel():
    """(5) c cancels a held spawn; no mock-pod process remains."""
    with session('cancel', pod='mock', mock_args='--ready-delay -1') as t:
        t.start()
        t.spawn('slow')
        s = t.wait(lambda s: mock_pid(s) and s.pod_row('slow', 'starting'),
                   'the held mock\'s pid in the log, the row starting')
        pid = mock_pid(s)
        t.keys('c')
        t.wait(lambda s: s.pod_row('slow', 'stopped|failed'),
               'the row to leave starting for stopped or failed')
        check(not alive(pid), 'mock-pod %d still runs' % pid)
        t.quit()


def two_spawns():
    """Two held spawns at once, released in the other order: each row
    goes ready on its own release."""
    with session('two_spawns', pod='mock', mock_args='--ready-delay -1') as t:
        t.start()
        pids = {}
        for name in ('one', 'two'):
            t.spawn(name)
            s = t.wait(lambda s: mock_pid(s) and s.pod_row(name, 'starting')
                       and re.search(r'LOG %s: spawn' % name, s.log_title),
                       'the held mock of %s' % name)
            pids[name] = mock_pid(s)
        check(pids['one'] != pids['two'], 'one pid for both mocks')
        os.kill(pids['two'], signal.SIGUSR1)
        t.wait(lambda s: s.pod_row('two', 'ready') and
               s.pod_row('one', 'starting'), 'two ready, one starting')
        os.kill(pids['one'], signal.SIGUSR1)
        t.wait(lambda s: s.pod_row('one', 'ready') and
               s.pod_row('two', 'ready'), 'both ready')
        t.quit()


def quit_spawning():
    """q while a spawn is held: podui exits 0 and its pod is gone (a
    spawn cancelled stops its pod)."""
    with session('quit_spawning', pod='mock',
                 mock_args='--ready-delay -1') as t:
        t.start()
        t.spawn('slow')
        s = t.wait(lambda s: mock_pid(s) and s.pod_row('slow', 'starting'),
                   'the held mock\'s pid in the log, the row starting')
        pid = mock_pid(s)
        t.quit()
        check(wait_exit(pid, 5.0), 'mock-pod %d outlived podui' % pid)


def alive(pid):
    """Whether pid runs (a zombie does not)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def resume():
    """(6) e, select a stopped session, Enter: the same session again."""
    with session('resume') as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root)
        sid = t.pods()['web']['session_id']
        t.podctl('stop', 'web')
        t.start()
        t.wait_pod('web', 'stopped|crashed')
        t.keys('e')
        t.wait(lambda s: s.has(r'SESSIONS') and
               s.has(r'^\W*%s\s+web\b' % sid[:8]), 'the session row')
        t.keys('Enter')
        s = t.wait(lambda s: s.pod_row('web', 'ready') or
                   s.has(r'^\W*%s\s+web\b.*\blive\s*$' % sid[:8]),
                   'web ready (or its session live)')
        if not s.main_mode():
            t.keys('e')
            t.wait_pod('web', 'ready')
        pod = t.pods()['web']
        check(pod['alive'] and pod['session_id'] == sid,
              'podctl ls: %r, not session %s' % (pod, sid))
        t.quit()


def follow():
    """(7) the log pane follows a process's new lines."""
    with session('follow') as t:
        fifo = os.path.join(t.root, 'in')
        os.mkfifo(fifo)
        # held open read-write: writes never block, the process reads
        # each line when it gets there
        fd = os.open(fifo, os.O_RDWR | os.O_CLOEXEC)
        try:
            m = t.manifest({'echo': ['sh', '-c', 'while read l < "$0"; '
                                     'do echo "got $l"; done', fifo]})
            t.podctl('spawn', '-n', 'web', '-C', t.root, '-m', m)
            t.start()
            t.wait_proc('echo', READY)
            os.write(fd, b'one\n')
            t.wait(lambda s: s.has(r'\bgot one\s*$', s.log) and
                   re.search(r'LOG web: all processes', s.log_title),
                   'got one in the log of all processes')
            # the process's own log: Tab to the processes, Enter
            t.keys('Tab', 'Enter')
            t.wait(lambda s: re.search(r'LOG web: echo\b', s.log_title),
                   'the log title of echo')
            os.write(fd, b'two\n')
            t.wait(lambda s: s.has(r'\bgot two\s*$', s.log) and
                   s.has(r'\bgot one\s*$', s.log), 'got one, got two')
            t.quit()
        finally:
            os.close(fd)


def layout_ok(s, cols, rows):
    """The titles, the hint line, whole rows: nothing garbled."""
    return (s.main_mode() and len(s.lines) == rows and
            len([line for line in s.lines if re.match(r'\s*PODS\b', line)])
            == 1 and
            all(len(line) <= cols for line in s.lines) and
            re.search(r'\? help', s.status) and
            s.has(r'^\W*web\s+ready\s+\S+\s+1/1\s+\d+\s*$', s.pods) and
            s.has(r'^\W*tick\s+(running|ready)\s+\d+\s', s.procs) and
            re.match(r'^podui\b', s.header))


HOSTILE = ('printf "%s\\n" "$(printf "x%.0s" $(seq 1 300))"; '
           'printf "\\033[2J\\033[31mred\\033[0m\\tTAB\\rCR\\n"; '
           'printf "\\033]0;title\\007osc\\n"; echo END; exec sleep 1000')


def colours_on_screen(t):
    """The SGR sequences on screen that set a colour."""
    return [m.group(0) for line in colour_cells(t)
            for m in SGR.finditer(line) if sgr_colours(m.group(1))]


def hostile_output():
    """A process's output with a line wider than the pane, escapes,
    a tab and a CR: the layout holds and no escape reaches the terminal
    (under NO_COLOR any colour on screen came from the process)."""
    with session('hostile_output', env={'NO_COLOR': '1'}) as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root, '-m',
                 t.manifest({'tick': ['sh', '-c', HOSTILE]}))
        t.start()
        t.wait(lambda s: layout_ok(s, 120, 40) and
               s.has(r'\bEND\s*$', s.log), 'END in the log, the layout')
        bad = colours_on_screen(t)
        check(not bad, 'the process\'s colours on screen: %r' % bad[:5])
        t.quit()


def resize():
    """(8) 120x40 to 80x24 and back keeps the layout."""
    with session('resize') as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root, '-m',
                 t.manifest({'tick': TICK}))
        t.start()
        for cols, rows in ((120, 40), (80, 24), (120, 40)):
            if (cols, rows) != (t.cols, t.rows):
                t.resize(cols, rows)
            t.wait(lambda s: layout_ok(s, cols, rows),
                   'the whole layout in %dx%d' % (cols, rows))
        t.quit()


def proc_actions():
    """(9) x stops the selected process, s starts it, r restarts it."""
    with session('proc_actions') as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root, '-m',
                 t.manifest({'nap': ['sleep', '1000']}))
        t.start()
        t.wait_proc('nap', READY)
        t.keys('Tab')
        t.keys('x')
        t.wait_proc('nap', 'stopped')
        t.keys('s')
        s = t.wait(lambda s: pid_of(s, 'nap'), 'nap running with a pid')
        first = pid_of(s, 'nap')
        t.keys('r')
        t.wait(lambda s: pid_of(s, 'nap') not in (None, first),
               'nap running again with a pid other than %d' % first)
        t.quit()


NOTIFY = ('import os, socket\n'
          's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n'
          's.sendto(b"READY=1\\nSTATUS=serving 42 requests",'
          ' os.environ["NOTIFY_SOCKET"])\n')


def status():
    """The STATUS= text of a process (sd_notify); a process started by
    s that exits 3 shows exited and its code."""
    with session('status') as t:
        m = t.manifest(
            {'svc': ['sh', '-c', '"$0" -c "$1" && exec sleep 1000',
                     sys.executable, NOTIFY],
             'once': ['sh', '-c', 'echo bye; exit 3']},
            {'svc': 'ready = { notify = true }',
             'once': 'autostart = false'})
        t.podctl('spawn', '-n', 'web', '-C', t.root, '-m', m)
        t.start()
        t.wait(lambda s: s.has(r'^\W*svc\s+ready\s+\d+\s+0\s+-\s+yes\s+'
                               r'serving 42 requests\s*$', s.procs),
               'svc ready with its STATUS= text')
        t.wait_proc('once', 'stopped')
        t.keys('Tab', 'j')  # once is the second process
        t.wait(lambda s: s.has(r'^>\s*once\b', s.procs), 'once selected')
        t.keys('s')
        t.wait(lambda s: s.has(r'^\W*once\s+exited\s+-\s+\d+\s+3\s+no\b',
                               s.procs), 'once exited 3')
        t.quit()


def pid_of(s, proc):
    m = s.proc_row(proc, READY)
    return int(m.group(2)) if m and m.group(2).isdigit() else None


def two_pods_ready(t):
    """alpha and beta spawned by podctl, podui started, both ready."""
    for name in ('alpha', 'beta'):
        t.podctl('spawn', '-n', name, '-C', t.root)
    t.start()
    t.wait(lambda s: s.pod_row('alpha', 'ready') and
           s.pod_row('beta', 'ready'), 'both pods')


def filter_pods():
    """(10) / and a text hide the other pods; empty shows them again."""
    with session('filter') as t:
        two_pods_ready(t)
        t.keys('/')
        t.prompt(r'(?i)filter', 'alp')
        t.wait(lambda s: s.pod_row('alpha', 'ready') and
               not s.pod_row('beta') and 'filter "alp"' in s.header,
               'beta hidden, the header saying filter "alp"')
        t.keys('/')
        t.prompt(r'(?i)filter', '')
        t.wait(lambda s: s.pod_row('beta', 'ready'), 'beta back')
        t.quit()


def colour_cells(t):
    """The pane's lines with their escapes."""
    return t.capture(escapes=True).split('\n')


def coloured_word(line, word):
    """Whether `word` in an escaped line is drawn in a colour."""
    colour = False
    pos = 0
    for m in SGR.finditer(line):
        if word in strip_sgr(line[pos:m.start()]):
            return colour
        params = m.group(1)
        if params in ('', '0') or re.match(r'0;', params):
            colour = False
        if sgr_colours(params):
            colour = True
        pos = m.start()
    return colour and word in strip_sgr(line[pos:])


def strip_sgr(text):
    return SGR.sub('', text)


def no_color():
    """(11) NO_COLOR=1: no colour escape at all."""
    with session('no_color', env={'NO_COLOR': '1'}) as t:
        two_pods_ready(t)
        bad = colours_on_screen(t)
        check(not bad, 'colours under NO_COLOR: %r' % bad[:5])
        t.quit()


def color():
    """(11) without NO_COLOR the state word ready is coloured."""
    with session('color') as t:
        two_pods_ready(t)
        rows = [line for line in colour_cells(t)
                if re.search(r'^\W*(alpha|beta)\s+ready\b',
                             strip_sgr(line))]
        check(any(coloured_word(line, 'ready') for line in rows),
              'no pod row shows ready in a colour:\n%s' % '\n'.join(
                  repr(line) for line in rows))
        t.quit()


def _quit_by(name, how):
    """podui with a ready pod on screen, ended by how (a signal, or keys
    for the pane): exit 0 (docs/ui.md) and the tty as it was."""
    with session(name) as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root)
        t.start()
        t.wait_pod('web', 'ready')
        t.quit(how, rc=(0,))


def sigterm():
    """(12) SIGTERM to podui."""
    _quit_by('sigterm', signal.SIGTERM)


def sigint():
    """(12) Ctrl-C."""
    _quit_by('sigint', ('C-c',))


def sighup():
    """SIGHUP to podui."""
    _quit_by('sighup', signal.SIGHUP)


def sigquit():
    """Ctrl-\\ (SIGQUIT, live in cbreak mode): it left the tty raw and
    the alternate screen up when it dumped core."""
    _quit_by('sigquit', ('C-\\',))


def tiny():
    """A window far below 80x24 (20x5, 1x1) does not kill podui; back
    to 120x40 the layout is whole again."""
    with session('tiny') as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root, '-m',
                 t.manifest({'tick': TICK}))
        t.start()
        t.wait(lambda s: layout_ok(s, 120, 40), 'the layout')
        t.resize(20, 5)
        t.wait(lambda s: len(s.lines) == 5 and s.text.strip(),
               'something drawn in 20x5')
        # in 1x1 nothing need be drawn: what shows podui lived is the
        # layout when the window is large again
        t.resize(1, 1)
        t.keys('?', 'Escape', 'j', 'Tab', 'k', 'Tab')
        t.resize(120, 40)
        t.wait(lambda s: layout_ok(s, 120, 40), 'the layout again')
        t.quit()


def many():
    """More pods than the pane holds (80x24): the selection scrolls."""
    names = ['p%02d' % i for i in range(1, 16)]
    with session('many', cols=80, rows=24) as t:
        for name in names:
            t.podctl('spawn', '-n', name, '-C', t.root, '--pod-command',
                     binary('mock'))
        t.start()
        t.wait(lambda s: re.match(r'podui\s+15 pods\b', s.header) and
               s.pod_row('p01', 'ready'), '15 pods, p01 ready')
        for _ in names[1:]:
            t.keys('j')
        # the mock pod speaks no protocol: podui says so
        t.wait(lambda s: s.has(r'^>\s*p15\s+ready\b', s.pods) and
               re.search(r'PROCESSES of p15\b', s.text) and
               s.has(r'^\s*\(no control connection: .+\)', s.procs),
               'p15 selected and shown, the processes of p15')
        t.quit()


def age():
    """The age column ticks by itself (2s without a key); help and
    back keep it going."""
    with session('age') as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root)
        t.start()
        t.wait_pod('web', 'ready')
        t.wait(lambda s: s.has(r'^\W*web\s+ready\s+([2-9]|\d\d+)s\b',
                               s.pods), 'an age of 2s or more')
        t.keys('?')
        t.wait_text(r'podui keys')
        t.keys('Escape')
        t.wait(lambda s: s.has(r'^\W*web\s+ready\s+([3-9]|\d\d+)s\b',
                               s.pods), 'an age of 3s or more')
        t.quit()


def spawn_dup():
    """A spawn of a name a live pod holds fails (already running) and
    leaves that pod's row ready; a refused name says why."""
    with session('spawn_dup') as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root)
        t.start()
        t.wait_pod('web', 'ready')
        t.spawn('web')
        t.wait(lambda s: s.has(r'already.running'), 'already running')
        t.keys('End')  # a key: the message goes, the row stays
        t.wait(lambda s: re.search(r'\? help', s.status) and
               s.pod_row('web', 'ready'), 'web still ready')
        check(t.pods()['web']['state'] == 'ready', 'web not ready')
        t.keys('n')
        t.prompt(r'spawn name', '.bad')
        # refused at its prompt, before any pod exists: the status line
        # says why
        t.wait(lambda s: re.search(r'bad_name|pod name "\.bad"', s.status),
               'the name refused')
        t.wait(lambda s: not s.pod_row('.bad'), 'no row of .bad')
        t.quit()


def stop_slow():
    """A pod whose process ignores SIGTERM stops slowly (its grace, 2s):
    its row says stopping and keys are answered meanwhile; then it is
    stopped."""
    with session('stop_slow') as t:
        m = t.manifest({'stubborn': ['sh', '-c', 'trap "" TERM; '
                                     'while :; do sleep 1; done']},
                       {'stubborn': 'stop = { grace = "2s" }'})
        t.start()
        t.spawn('slow', manifest=m)
        t.wait_pod('slow', 'ready')
        t.keys('S')
        t.wait(lambda s: re.search(r'y/n', s.status), 'the stop question')
        t.keys('y')
        t.wait_pod('slow', 'stopping')
        t.keys('?')
        t.wait_text(r'podui keys')
        t.keys('Escape')
        s = t.wait(lambda s: s.main_mode(), 'the main screen')
        check(s.pod_row('slow', 'stopping|stopped|crashed'),
              'slow neither stopping nor stopped')
        t.wait_pod('slow', 'stopped|crashed')
        check(not any(p['alive'] for p in t.pods().values()),
              'a pod still alive')
        t.quit()


def crashed():
    """(13) a pod killed from outside shows crashed; R reaps its row."""
    with session('crashed') as t:
        t.podctl('spawn', '-n', 'web', '-C', t.root)
        pid = t.pods()['web']['pid']
        t.start()
        t.wait_pod('web', 'ready')
        os.kill(pid, signal.SIGKILL)
        t.wait_pod('web', 'crashed')
        t.keys('R')
        t.wait(lambda s: s.main_mode() and not s.pod_row('web'),
               'the row of web gone')
        check('web' not in t.pods(), 'podctl ls still lists web')
        t.quit()


TESTS = {
    'spawn_ui': spawn_ui,
    'outside': outside,
    'stop_ui': stop_ui,
    'stop_names_its_pod': stop_names_its_pod,
    'spawn_fail': spawn_fail,
    'spawn_fail_real': spawn_fail_real,
    'failed_outside': failed_outside,
    'nul_output': nul_output,
    'scroll': scroll,
    'slow_spawn': slow_spawn,
    'cancel': cancel,
    'two_spawns': two_spawns,
    'quit_spawning': quit_spawning,
    'resume': resume,
    'follow': follow,
    'resize': resize,
    'hostile_output': hostile_output,
    'proc_actions': proc_actions,
    'status': status,
    'filter': filter_pods,
    'keys_misc': keys_misc,
    'no_color': no_color,
    'color': color,
    'sigterm': sigterm,
    'sigint': sigint,
    'sighup': sighup,
    'sigquit': sigquit,
    'tiny': tiny,
    'many': many,
    'age': age,
    'spawn_dup': spawn_dup,
    'stop_slow': stop_slow,
    'crashed': crashed,
}

if __name__ == '__main__':
    from tuitest import run
    sys.exit(run(TESTS, sys.argv))
