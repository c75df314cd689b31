"""dbt started ahead of time: imported once by a small server, then forked for each invocation.

A dbt command spends seconds importing dbt before it does any work. `mmds run` starts this
server first, so that dbt is imported on the machine's other core while the run imports
Dagster. dagster-dbt then runs a launcher script instead of `dbt`: the launcher hands its
arguments, environment, working directory and standard streams to the server, which forks a
child that runs them in the already imported dbt and reports its exit code. Signals sent to the
launcher (dagster-dbt interrupting dbt) are forwarded to that child, and the child is killed if
the launcher dies. When no server answers, the launcher execs `dbt` itself.

Only the standard library is imported here: the launcher must start in milliseconds.
"""

import atexit
import contextlib
import gc
import importlib
import json
import os
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

SOCKET_VARIABLE = "MMDS_WARM_DBT_SOCKET"
LAUNCHER_NAME = "dbt"
_STREAMS = (0, 1, 2)  # stdin, stdout, stderr of the launcher become the child's
_LENGTH = struct.Struct("!Q")  # the request's size, sent with the streams
# What a `dbt build` of mmds' project imports: the command line, the DuckDB adapter, the task.
_PRELOADED = (
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "dbt.adapters.duckdb.connections",
    "dbt.adapters.duckdb.impl",
    "dbt.task.build",
    "dbt_common.clients.agate_helper",
)


@contextlib.contextmanager
def warm_dbt(env: dict[str, str]) -> Iterator[Path]:
    """Start the server with `env` and yield the launcher to run instead of `dbt`.

    The server lives as long as the block (and never longer than this process: it exits when
    its standard input closes).
    """
    scratch = Path(tempfile.mkdtemp(prefix="mmds-dbt-"))  # short: socket paths are limited
    address = scratch / "server.sock"
    launcher = scratch / LAUNCHER_NAME
    launcher.write_text(
        "#!/bin/sh\n"
        f"export {SOCKET_VARIABLE}={shlex.quote(str(address))}\n"
        f'exec {shlex.quote(sys.executable)} -m {__name__} launch "$@"\n',
        encoding="utf-8",
    )
    launcher.chmod(0o700)
    server = subprocess.Popen(  # noqa: S603 - this interpreter and module, no shell
        [sys.executable, "-m", __name__, "serve", str(address)],
        stdin=subprocess.PIPE,
        env=env,
    )
    try:
        yield launcher
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(scratch, ignore_errors=True)


def dbt_path() -> str:
    """The `dbt` installed beside this interpreter."""
    return str(Path(sys.executable).with_name("dbt"))


def serve(address: str) -> None:
    """Listen on `address`, import dbt, then run each request in a forked child, one at a time."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the child; the server reports
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(8)  # launchers arriving while dbt is imported wait in the backlog
    children: set[int] = set()
    scratch = Path(address).parent
    threading.Thread(target=_exit_with_parent, args=(children, scratch), daemon=True).start()

    gc.disable()  # no collection among the objects of the import: they live on (see cli)
    for module in _PRELOADED:  # the point of the server: imported once, before any request
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    from dbt.cli.main import cli

    gc.freeze()  # and each forked dbt leaves them out of its collections too
    gc.enable()

    while True:
        connection, _ = listener.accept()
        with connection, contextlib.suppress(OSError, ValueError):  # a launcher that left early
            _serve_one(connection, cli, listener, children)


def _serve_one(connection: socket.socket, cli, listener: socket.socket, children: set) -> None:
    header, streams, _, _ = socket.recv_fds(connection, _LENGTH.size, len(_STREAMS))
    try:
        request = json.loads(_read_exactly(connection, _LENGTH.unpack(header)[0]))
    except (OSError, ValueError, struct.error):
        for stream in streams:
            os.close(stream)
        raise ValueError("incomplete request") from None
    pid = os.fork()
    if pid == 0:
        listener.close()
        connection.close()
        _run_dbt(cli, request, streams)
    children.add(pid)
    for stream in streams:
        os.close(stream)
    connection.sendall(f"{pid}\n".encode())
    code = _wait_for_child(pid, connection)
    children.discard(pid)
    with contextlib.suppress(OSError):  # the launcher may be gone
        connection.sendall(f"{code}\n".encode())


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the launcher left before sending its whole request")
        data += chunk
    return bytes(data)


def _run_dbt(cli, request: dict, streams: list[int]) -> None:
    """In the forked child: become the launcher's dbt, then exit with dbt's exit code."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, stream in zip(_STREAMS, streams, strict=True):
            os.dup2(stream, target)
            os.close(stream)
        sys.stdout.reconfigure(line_buffering=True)  # dagster-dbt reads events line by line
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [dbt_path(), *request["argv"]]
        cli(prog_name="dbt")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):  # what a normal exit would run, then leave
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _wait_for_child(pid: int, connection: socket.socket) -> int:
    """The child's exit code; the child is killed if its launcher goes away first."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        readable, _, _ = select.select([connection], [], [], 0.05)
        if readable and not connection.recv(1):  # the launcher sends nothing more: it died
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _exit_with_parent(children: set[int], scratch: Path) -> None:
    """Wait for the end of standard input (the parent closed it, or died), then stop.

    The launcher's directory goes too: a parent killed with SIGKILL cannot remove it.
    """
    sys.stdin.buffer.read()
    for pid in list(children):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(scratch, ignore_errors=True)
    os._exit(0)


def launch(argv: list[str]) -> None:
    """Run `dbt argv` in the warm server if one answers, else exec `dbt` itself."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(os.environ[SOCKET_VARIABLE])
    except (KeyError, OSError):
        connection.close()
        os.execv(dbt_path(), [dbt_path(), *argv])  # noqa: S606 - the venv's dbt, same arguments
    request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    socket.send_fds(connection, [_LENGTH.pack(len(request))], list(_STREAMS))
    connection.sendall(request)
    replies = connection.makefile("r", encoding="utf-8")
    pid = replies.readline().strip()
    if not pid:
        sys.exit("mmds: the warm dbt server stopped before running dbt")
    for forwarded in (signal.SIGINT, signal.SIGTERM):
        signal.signal(forwarded, lambda number, _frame: _forward(int(pid), number))
    code = replies.readline().strip()
    sys.exit(int(code) if code else "mmds: the warm dbt server stopped while dbt ran")


def _forward(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "serve":
        serve(arguments[0])
    else:
        launch(arguments)
