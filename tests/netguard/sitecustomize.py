"""Block and record every outbound connection that leaves the machine.

Put this folder on PYTHONPATH and set MMDS_NETGUARD_LOG to a file: every Python process started
that way refuses to connect, send to or resolve anything but loopback, and appends what it
refused to the log (one line each), so a test can prove nothing phoned home.
"""

import ipaddress
import os
import sys

_LOG = os.environ.get("MMDS_NETGUARD_LOG")
_LOCAL_NAMES = {None, "", "localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(event: str, target: object) -> None:
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {event} {target!r} {sys.argv[:3]!r}\n")
    raise OSError(f"mmds netguard: outbound network refused ({event} {target!r})")


def _guard(event: str, args: tuple) -> None:
    if event in ("socket.connect", "socket.sendto"):
        address = args[1]
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            _refuse(event, address)
    elif event == "socket.getaddrinfo" and not _is_loopback(args[0]):
        _refuse(event, args[0])


if _LOG:
    sys.addaudithook(_guard)
