"""A Matter node stand-in for the lab's Thread namespace: answers reliable messages with an MRP ack.

Why it exists: the IPv6 probe proves that a Matter controller on net1 can reach a Thread device
through the border router's RIO route with a real round trip. A real Matter node (connectedhomeip's
ExchangeManager) answers any unsolicited *reliable* message on an unsecured session, even one no
handler claims, with an MRP standalone acknowledgement (Secure Channel opcode 0x10) before
anything else; that is what this responder does, and all it does. It parses the Matter message and
protocol headers (Matter Core spec, "Message Format") and drops what a node would drop: secured
sessions it has no key for, malformed headers, messages without the R flag.

It binds UDP port 5540 (or --port) on all addresses of the namespace it is started in (the lab's
Thread namespace) and touches nothing else. Standard library only.

Run: `python3 -m multus_check.lab.matter_node --port 5540`
"""

from __future__ import annotations

import argparse
import logging
import random
import signal
import socket
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

log = logging.getLogger("matter-node")
FLAG_S, DSIZ_NODE = 0x04, 0x01  # message flags: source node id present; destination is a 64-bit node id
EX_INITIATOR, EX_ACK, EX_RELIABLE, EX_VENDOR = 0x01, 0x02, 0x04, 0x10
SECURE_CHANNEL, STANDALONE_ACK = 0x0000, 0x10


@dataclass(frozen=True)
class Received:
    """The fields of an unsecured message an acknowledgement is built from."""

    counter: int
    source_node: int
    exchange_flags: int
    exchange_id: int

    @property
    def reliable(self) -> bool:
        return bool(self.exchange_flags & EX_RELIABLE)


def parse_unsecured(data: bytes) -> Received | None:
    """The headers of an unsecured message from an initiator; None for anything a node would drop."""
    if len(data) < 8:
        return None
    flags, session_id, security, counter = struct.unpack_from("<BHBI", data)
    dsiz = flags & 0x03
    if flags >> 4 != 0 or session_id != 0 or security & 0x03 != 0 or not flags & FLAG_S or dsiz != 0:
        return None  # another version, a secured/group session, or not from an initiator
    if security & 0x20:
        return None  # message extensions: not used by this stand-in
    offset = 8
    if len(data) < offset + 8 + 6:
        return None
    (source,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    exchange_flags, _opcode, exchange_id = struct.unpack_from("<BBH", data, offset)
    return Received(counter, source, exchange_flags, exchange_id)


def standalone_ack(msg: Received, own_counter: int) -> bytes:
    """The MRP standalone acknowledgement of `msg`, addressed to its ephemeral source node id."""
    header = struct.pack("<BHBIQ", DSIZ_NODE, 0, 0, own_counter, msg.source_node)
    payload = struct.pack("<BBHHI", EX_ACK, STANDALONE_ACK, msg.exchange_id, SECURE_CHANNEL, msg.counter)
    return header + payload


def serve(port: int) -> None:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::", port))
    counter = random.randint(1, 0x0FFFFFFF)
    log.info("ready on [::]:%d", port)
    while True:
        data, addr = s.recvfrom(2048)
        msg = parse_unsecured(data)
        if msg is None or not msg.reliable:
            log.info("dropped %d bytes from [%s]:%d", len(data), addr[0], addr[1])
            continue
        counter += 1
        s.sendto(standalone_ack(msg, counter), addr)
        log.info("acked counter %d of exchange %d from [%s]:%d", msg.counter, msg.exchange_id, addr[0], addr[1])


def _exit(_signum: int, _frame: FrameType | None) -> None:
    sys.exit(0)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--port", type=int, default=5540)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    signal.signal(signal.SIGTERM, _exit)
    serve(a.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
