"""Which host processes hold a port: /proc/net sockets, then /proc/<pid>/fd to find their owners.

Only sockets of this network namespace are visible, and only the processes this user may
inspect (root sees all); the caller says so when a bound port has no visible owner.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TCP_LISTEN = "0A"


@dataclass(frozen=True)
class HostSocket:
    protocol: str  # "tcp" or "udp"
    address: str
    port: int
    inode: int
    uid: int


@dataclass(frozen=True)
class SocketOwner:
    pid: int
    name: str  # /proc/<pid>/comm
    command: str  # the argv, space-joined


def _address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    # The kernel prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, words)


def sockets(port: int, protocol: str = "tcp") -> list[HostSocket]:
    """Listening TCP sockets (or bound UDP sockets) on `port`, IPv4 and IPv6."""
    found = []
    for table in (protocol, f"{protocol}6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            hex_addr, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) != port or (protocol == "tcp" and fields[3] != TCP_LISTEN):
                continue
            found.append(
                HostSocket(protocol, _address(hex_addr), port, int(fields[9]), int(fields[7]))
            )
    return found


def owners(inodes: set[int]) -> dict[int, list[SocketOwner]]:
    """inode -> the processes with that socket open (those this user may inspect)."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    found: dict[int, list[SocketOwner]] = {}
    if not wanted:
        return found
    for proc in PROC.iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue  # gone, or not ours to inspect
        hits = set()
        for fd in fds:
            try:
                target = str(fd.readlink())
            except OSError:
                continue
            if target in wanted:
                hits.add(wanted[target])
        if hits:
            owner = _owner(proc)
            for inode in hits:
                found.setdefault(inode, []).append(owner)
    return found


def _owner(proc: Path) -> SocketOwner:
    try:
        name = (proc / "comm").read_text().strip()
    except OSError:
        name = "?"
    try:
        argv = (proc / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        command = " ".join(a.decode(errors="replace") for a in argv)
    except OSError:
        command = name
    return SocketOwner(int(proc.name), name, command or name)
