"""A small SSDP responder for the lab router: answers M-SEARCH with a unicast `HTTP/1.1 200 OK`.

Why it exists: the lab needs a UPnP/DLNA-like device on its LAN so the SSDP probe has something
real to find, without pulling in a UPnP stack. It binds UDP 1900 in the namespace it is started
in (the lab router) and joins 239.255.255.250 on the given address only.

Run: `python3 -m multus_check.lab.ssdp_responder --bind 192.168.77.1`
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from types import FrameType

SSDP_GROUP, SSDP_PORT = "239.255.255.250", 1900
DEFAULT_USN = "uuid:6d756c74-7573-2d63-6865-636b2d6c6162::upnp:rootdevice"
log = logging.getLogger("ssdp-responder")


def search_target(request: bytes) -> str | None:
    """The ST header of an M-SEARCH request, or None when it is not one."""
    text = request.decode(errors="replace")
    if not text.startswith("M-SEARCH"):
        return None
    for line in text.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().upper() == "ST":
            return value.strip()
    return ""


def reply(st: str, location: str, usn: str) -> bytes | None:
    """The 200 OK for a search target we serve (ssdp:all, upnp:rootdevice, our uuid), else None."""
    uuid = usn.split("::", 1)[0]
    if st not in ("ssdp:all", "upnp:rootdevice", uuid):
        return None
    return ("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
            f"LOCATION: {location}\r\nSERVER: Linux UPnP/1.0 multus-check-lab/1.0\r\n"
            f"ST: upnp:rootdevice\r\nUSN: {usn}\r\n\r\n").encode()


def serve(bind_ip: str, location: str, usn: str) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", SSDP_PORT))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(SSDP_GROUP) + socket.inet_aton(bind_ip))
    log.info("ready on %s:%d", bind_ip, SSDP_PORT)
    while True:
        data, addr = s.recvfrom(4096)
        st = search_target(data)
        answer = reply(st, location, usn) if st is not None else None
        if answer is not None:
            s.sendto(answer, addr)
            log.info("answered %s:%d (ST %s)", addr[0], addr[1], st)


def _exit(_signum: int, _frame: FrameType | None) -> None:
    sys.exit(0)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--bind", required=True, help="the router address to join the SSDP group on")
    ap.add_argument("--location", default="http://127.0.0.1/desc.xml")
    ap.add_argument("--usn", default=DEFAULT_USN)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    signal.signal(signal.SIGTERM, _exit)
    serve(a.bind, a.location, a.usn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
