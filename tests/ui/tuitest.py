"""tuitest: end-to-end tests of podui in a real terminal (tmux).

Each test gets its own temporary root, its own tmux server (one session,
one pane of a fixed size) and a pane that runs podui through a wrapper
shell which records podui's exit code and the tty's settings before and
after, then signals the tmux channel `done`.  The test waits on events,
never on time: a control-mode client reports every write of the pane
(`%output`), and a predicate over `capture-pane` is re-checked only then
(or right after keys were sent), up to a safety deadline that fails the
test with the last screen.  Outside the screen, the library's own waits
(`podctl spawn`, `podctl stop`) and pidfds are the events.

At the end nothing may be left: the pods are stopped, the tmux server
killed, and no process may still carry the test's root in its
environment; the root is removed.

Standard library only.  The binaries come from the environment (meson
sets it, tests/ui/meson.build), else from ./build of the source tree.
"""

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

DEADLINE = 30.0  # seconds: the safety net of every wait, never a pace

_SRC = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
_BUILD = os.path.join(_SRC, 'build')
_BINARIES = {
    'podui': ('INSOMNIA_TEST_PODUI', 'client/ui/podui'),
    'pod': ('INSOMNIA_TEST_POD', 'pod/pod'),
    'mock': ('INSOMNIA_TEST_MOCK_POD', 'tools/mock-pod'),
    'podctl': ('INSOMNIA_TEST_PODCTL', 'client/podctl'),
    'monitor': ('INSOMNIA_LAUNCH_MONITOR', 'client/pod-launch-monitor'),
}
# the variables that would send the library elsewhere than our root
_DROPPED = ('INSOMNIA_RUNTIME_DIR', 'INSOMNIA_DATA_DIR', 'XDG_RUNTIME_DIR',
            'INSOMNIA_HOME', 'TMUX', 'TMUX_PANE', 'NO_COLOR',
            'MOCK_POD_ARGS', 'INSOMNIA_POD_COMMAND')

# The pane's program: podui once our control client is attached (so
# that no write of podui's goes unreported), the tty's settings around
# it, its exit code, then the event the test waits for.  A trapped
# SIGINT and SIGQUIT let the shell outlive a Ctrl-C or Ctrl-\ that
# reaches its whole group (podui gets the default disposition back at
# exec).
_WRAPPER = """\
trap : INT QUIT
cd "$UI_ROOT" || exit 1
"$UI_TMUX" -S "$UI_ROOT/tmux.sock" wait-for go
stty -g > stty.before
"$UI_PODUI" 2> podui.err
echo $? > rc
stty -g > stty.after
"$UI_TMUX" -S "$UI_ROOT/tmux.sock" wait-for -S done
read _
"""

SGR = re.compile(r'\x1b\[([0-9;:]*)m')


class Failure(Exception):
    """A check that did not hold."""


class ScreenFailure(Failure):
    """A wait that did not end: its message holds the screen."""


def binary(key):
    var, rel = _BINARIES[key]
    path = os.environ.get(var) or os.path.join(_BUILD, rel)
    if not os.access(path, os.X_OK):
        raise Failure('%s: no such program (set %s)' % (path, var))
    return path


def check(cond, what):
    if not cond:
        raise Failure(what)


class Screen:
    """One capture of the pane, cut into the main mode's panes."""

    def __init__(self, text):
        self.text = text
        self.lines = text.split('\n')
        self.header = self.lines[0] if self.lines else ''
        self.status = self.lines[-1] if self.lines else ''
        self.pods = self._section(r'^\s*PODS\b', r'^\s*PROCESSES\b')
        self.procs = self._section(r'^\s*PROCESSES\b', r'^\s*LOG\b')
        self.log = self._section(r'^\s*LOG\b', None)
        self.log_title = self._find(r'^\s*LOG\b') or ''

    def _find(self, pattern):
        for line in self.lines:
            if re.search(pattern, line):
                return line
        return None

    def _section(self, start, end):
        """The lines after the title `start`, up to `end` (or the last
        row, the status line); [] when the title is not shown."""
        out = None
        for line in self.lines[:-1]:
            if out is None:
                if re.search(start, line):
                    out = []
            elif end is not None and re.search(end, line):
                break
            else:
                out.append(line)
        return out or []

    def main_mode(self):
        return all(self._find(t) is not None for t in (
            r'^\s*PODS\b', r'^\s*PROCESSES\b', r'^\s*LOG\b'))

    def has(self, pattern, where=None):
        lines = self.lines if where is None else where
        return any(re.search(pattern, line) for line in lines)

    def grep(self, pattern, where=None):
        lines = self.lines if where is None else where
        for line in lines:
            m = re.search(pattern, line)
            if m:
                return m
        return None

    def pod_row(self, name, state=r'\w+'):
        return self.grep(r'^\W*%s\s+(%s)\b' % (re.escape(name), state),
                         self.pods)

    def proc_row(self, name, state=r'\w+'):
        return self.grep(r'^\W*%s\s+(%s)\s+(\d+|-)' % (re.escape(name),
                                                       state), self.procs)


def sgr_colours(params):
    """Whether one SGR's parameters set a foreground or background
    colour (30-38, 40-48, 90-97, 100-107; 39 and 49 are the defaults)."""
    for p in re.split(r'[;:]', params):
        if not p.isdigit():
            continue
        n = int(p)
        if 30 <= n <= 38 or 40 <= n <= 48 or 90 <= n <= 97 or \
                100 <= n <= 107:
            return True
    return False


class Tui:
    """One test's root, tmux server and podui."""

    def __init__(self, name, cols=120, rows=40, pod='real',
                 mock_args='', env=None):
        self.name = name
        self.cols, self.rows = cols, rows
        base = os.environ.get('TMPDIR') or '/tmp'
        self.root = tempfile.mkdtemp(prefix='insomnia-ui-', dir=base)
        self.home = os.path.join(self.root, 'h')
        os.mkdir(self.home)
        os.mkdir(os.path.join(self.home, 'config'))
        self.sock = os.path.join(self.root, 'tmux.sock')
        self.tmux_bin = shutil.which('tmux')
        if self.tmux_bin is None:
            raise Failure('tmux is not installed')
        self.podctl_bin = binary('podctl')
        self.env = {k: v for k, v in os.environ.items()
                    if k not in _DROPPED}
        self.env.update({
            'INSOMNIA_HOME': self.home,
            'HOME': self.home,
            'XDG_CONFIG_HOME': os.path.join(self.home, 'config'),
            'INSOMNIA_POD_COMMAND': binary('mock' if pod == 'mock'
                                           else 'pod'),
            'INSOMNIA_LAUNCH_MONITOR': binary('monitor'),
            'UI_ROOT': self.root,
            'UI_PODUI': binary('podui'),
            'UI_TMUX': self.tmux_bin,
        })
        if mock_args:
            self.env['MOCK_POD_ARGS'] = mock_args
        self.env.update(env or {})
        self.control = None
        self.reader = None
        self.cond = threading.Condition()
        self.outputs = 0  # %output notifications seen
        self.detached = False
        self.attached = threading.Event()
        self.last = None  # the last Screen captured
        self.quitted = False

    # ---- the terminal ---------------------------------------------
    def tmux(self, *args, check_rc=True, escapes=False):
        try:
            r = subprocess.run([self.tmux_bin, '-S', self.sock, '-f',
                                '/dev/null'] + list(args), env=self.env,
                               stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            raise Failure('tmux %s: no answer in %gs; the screen:\n%s' % (
                ' '.join(args), DEADLINE,
                self.last.text if self.last else '?')) from None
        if check_rc and r.returncode != 0:
            raise Failure('tmux %s: %s' % (' '.join(args),
                                           r.stderr.decode(errors='replace')))
        return r.stdout.decode(errors='replace')

    def start(self):
        """podui in a pane of cols x rows, and our control client."""
        wrapper = os.path.join(self.root, 'wrapper.sh')
        with open(wrapper, 'w') as f:
            f.write(_WRAPPER)
        self.tmux('new-session', '-d', '-s', 's', '-x', str(self.cols),
                  '-y', str(self.rows), 'sh', wrapper, ';',
                  'set-option', '-g', 'window-size', 'manual')
        self.control = subprocess.Popen(
            [self.tmux_bin, '-S', self.sock, '-C', 'attach', '-t', 's'],
            env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        # podui starts once our client is attached: from then on every
        # write of the pane is reported to it
        check(self.attached.wait(DEADLINE), 'the control client did not '
              'attach')
        self.tmux('wait-for', '-S', 'go')
        self.wait(lambda s: s.main_mode(), 'the main screen')

    def _read(self):
        for line in self.control.stdout:
            if line.startswith(b'%session-changed'):
                self.attached.set()
            if line.startswith(b'%output') or line.startswith(b'%exit'):
                with self.cond:
                    self.outputs += 1
                    if line.startswith(b'%exit'):
                        self.detached = True
                    self.cond.notify_all()
        with self.cond:
            self.detached = True
            self.cond.notify_all()

    def capture(self, escapes=False):
        args = ['capture-pane', '-p', '-t', 's']
        if escapes:
            args.append('-e')
        return self.tmux(*args)

    def screen(self):
        text = self.capture()
        # one line per row, each ended by a newline
        self.last = Screen(text[:-1] if text.endswith('\n') else text)
        return self.last

    def wait(self, pred, what, timeout=DEADLINE):
        """The screen once pred(Screen) holds, re-checked whenever the
        pane writes; a failure after `timeout` shows the last screen."""
        deadline = time.monotonic() + timeout
        woken = True
        while True:
            with self.cond:
                seen = self.outputs
            s = self.screen()
            if pred(s):
                # a screen that changed unreported would make every
                # wait a wait for the deadline: the harness is wrong
                check(woken, 'the screen changed without an %%output '
                      'notification while waiting for %s' % what)
                return s
            left = deadline - time.monotonic()
            if left <= 0 or self.detached:
                raise ScreenFailure('waited %s for %s; the screen:\n%s' % (
                    'in vain' if self.detached else '%gs' % timeout,
                    what, s.text))
            with self.cond:
                woken = self.cond.wait_for(
                    lambda: self.outputs != seen or self.detached, left)

    def wait_pod(self, name, state):
        return self.wait(lambda s: s.pod_row(name, state),
                         'pod row %s %s' % (name, state))

    def wait_proc(self, name, state):
        return self.wait(lambda s: s.proc_row(name, state),
                         'process row %s %s' % (name, state))

    def wait_text(self, pattern, where='text'):
        return self.wait(lambda s: s.has(pattern, getattr(s, where)
                                         if where != 'text' else None),
                         '/%s/ in %s' % (pattern, where))

    def keys(self, *keys):
        """tmux key names: 'n', 'Enter', 'Escape', 'C-c', 'Tab'."""
        self.tmux('send-keys', '-t', 's', *keys)

    def type(self, text):
        self.tmux('send-keys', '-t', 's', '-l', text)

    def resize(self, cols, rows):
        self.tmux('resize-window', '-t', 's', '-x', str(cols), '-y',
                  str(rows))
        self.cols, self.rows = cols, rows

    def prompt(self, label, text):
        """Wait for a prompt whose status line says `label`, answer it."""
        self.wait(lambda s: re.search(label, s.status),
                  'the prompt /%s/' % label)
        self.keys('C-u')  # what it offers (the filter's) goes
        if text:
            self.type(text)
        self.keys('Enter')

    def spawn(self, name, cwd='', manifest=''):
        """The spawn form: n, name, cwd, manifest."""
        self.keys('n')
        self.prompt(r'(?i)name', name)
        self.prompt(r'(?i)cwd|dir', cwd)
        self.prompt(r'(?i)manifest', manifest)

    def podui_pid(self):
        pane = int(self.tmux('display-message', '-p', '-t', 's',
                             '#{pane_pid}').strip())
        with open('/proc/%d/task/%d/children' % (pane, pane)) as f:
            kids = f.read().split()
        check(len(kids) == 1, 'the pane runs %r, not podui alone' % kids)
        return int(kids[0])

    # ---- quitting ------------------------------------------------
    def quit(self, how=('q',), rc=(0,)):
        """End podui (keys, or a signal number) and check what it left:
        its exit code in `rc`, the tty as before, nothing on stderr."""
        if isinstance(how, int):
            os.kill(self.podui_pid(), how)
        else:
            self.keys(*how)
        self.quitted = True
        self.tmux('wait-for', 'done')
        got = self._file('rc').strip()
        err = self._file('podui.err')
        before, after = self._file('stty.before'), self._file('stty.after')
        check(not re.search(r'ERROR: |runtime error', err),
              'podui reported on stderr:\n' + err)
        check(got.isdigit() and int(got) in rc,
              'podui exited %s, not %s; stderr:\n%s' % (got, rc, err))
        check(before == after, 'the tty was not restored:\nbefore %s'
              'after  %s' % (before, after))
        check(err == '', 'podui wrote on stderr:\n' + err)

    def _file(self, name):
        with open(os.path.join(self.root, name)) as f:
            return f.read()

    # ---- the library, from outside ------------------------------
    def podctl(self, *args, rc=0):
        r = subprocess.run([self.podctl_bin] + list(args), env=self.env,
                           cwd=self.root, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=DEADLINE)
        out = r.stdout.decode(errors='replace')
        if rc is not None and r.returncode != rc:
            raise Failure('podctl %s: exit %d\n%s%s' % (
                ' '.join(args), r.returncode, out,
                r.stderr.decode(errors='replace')))
        return out

    def podctl_json(self, *args):
        return json.loads(self.podctl(*(list(args) + ['--json'])))

    def pods(self):
        """podctl ls, by name."""
        return {p['name']: p for p in self.podctl_json('ls')['pods']}

    def manifest(self, procs, extra=None):
        """A manifest file of processes {name: argv}, with more TOML
        lines for some {name: text}; its path."""
        path = os.path.join(self.root, 'manifest-%d.toml' % len(
            os.listdir(self.root)))
        with open(path, 'w') as f:
            for name, argv in procs.items():
                # a JSON string is a TOML basic string
                f.write('[process.%s]\ncommand = %s\n%s\n' % (
                    name, json.dumps(argv), (extra or {}).get(name, '')))
        return path

    # ---- the end ---------------------------------------------------
    def close(self):
        """Stop the pods, end tmux, then fail on any process that still
        carries our root (after killing it) and remove the root."""
        problems = []
        try:
            self.podctl('stop', '--all', rc=None)
        except Exception as e:  # keep cleaning
            problems.append('podctl stop --all: %s' % e)
        expected = []
        for fmt in ('#{pid}', '#{pane_pid}'):
            out = self.tmux('display-message', '-p', '-t', 's', fmt,
                            check_rc=False).strip()
            if out.isdigit():
                expected.append(int(out))
        if len(expected) == 2:  # the pane's shell's children: podui
            expected += descendants(expected[1])
        self.tmux('kill-server', check_rc=False)
        if self.control is not None:
            self.control.stdin.close()
            try:
                self.control.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                problems.append('the control client did not end')
                self.control.kill()
                self.control.wait()
            self.control.stdout.close()
        for pid in expected:
            if not wait_exit(pid):
                problems.append('pid %d (tmux, its pane) did not end: %s'
                                % (pid, cmdline(pid)))
        for pid, cmd in carriers(self.root):
            # a process on its way out (a spawn's log watcher closing
            # its inotify instance, waited for by no one) may take a
            # moment: its exit is the event, the grace a safety net
            if wait_exit(pid, 2.0):
                continue
            problems.append('left behind: pid %d: %s' % (pid, cmd))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_exit(pid)
        shutil.rmtree(self.root, ignore_errors=True)
        if os.path.exists(self.root):
            problems.append('%s not removed' % self.root)
        if problems:
            raise Failure('\n'.join(problems))


def wait_exit(pid, timeout=DEADLINE):
    """Wait on a pidfd for a process that is not our child to end."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def descendants(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        return []
    return kids + [d for k in kids for d in descendants(k)]


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return '?'


def carriers(root):
    """The processes (not us) whose environment names `root`."""
    needle = root.encode()
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open('/proc/%s/environ' % entry, 'rb') as f:
                if needle not in f.read():
                    continue
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode(errors='replace')
        except OSError:
            continue
        found.append((int(entry), cmd.strip()))
    return found


def run(tests, argv):
    """Run the tests named in argv (all when none), Criterion-style:
    a line per test and the "Synthesis:" line that CI counts."""
    names = argv[1:] or list(tests)
    unknown = [n for n in names if n not in tests]
    if unknown:
        print('unknown tests: %s (known: %s)' % (
            ' '.join(unknown), ' '.join(tests)), file=sys.stderr)
        return 2
    passed = failed = 0
    for name in names:
        t0 = time.monotonic()
        try:
            tests[name]()
            ok = True
        except Exception as e:
            ok = False
            detail = str(e) if isinstance(e, Failure) else \
                traceback.format_exc()
            for line in detail.rstrip('\n').split('\n'):
                print('[----] ui::%s: %s' % (name, line))
        took = time.monotonic() - t0
        print('[%s] ui::%s: (%.2fs)' % ('PASS' if ok else 'FAIL', name,
                                        took))
        passed += ok
        failed += not ok
    print('[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | '
          'Crashing: 0 ' % (passed + failed, passed, failed))
    sys.stdout.flush()
    return 1 if failed else 0


def session(name, **kw):
    """A Tui for `with`: closed (and its cleanup checked) at the end."""
    return _Session(name, kw)


class _Session:
    def __init__(self, name, kw):
        self.name, self.kw = name, kw

    def __enter__(self):
        self.tui = Tui(self.name, **self.kw)
        return self.tui

    def __exit__(self, kind, value, tb):
        last = self.tui.last
        if isinstance(value, Failure) and \
                not isinstance(value, ScreenFailure) and last is not None:
            value = Failure('%s\nthe last screen:\n%s' % (value, last.text))
        try:
            self.tui.close()
        except Failure as e:
            if kind is None:
                raise
            # the test's own failure goes first; add the cleanup's
            raise Failure('%s\nand at cleanup: %s' % (value, e)) from None
        if value is not None:
            raise value
        return False
