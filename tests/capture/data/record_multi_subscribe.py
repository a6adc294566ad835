"""Recorder of mqtt_multi_subscribe.pcapng (see SOURCES.md); run by hand, not collected by pytest.

Hand-encoded MQTT 3.1.1 packets from a raw TCP socket to a real mosquitto, several packets per send(),
so that one TCP segment carries several SUBSCRIBE/UNSUBSCRIBE messages.
Usage: python record_multi_subscribe.py OUT.pcapng  (prints the broker port)
"""

import pathlib
import socket
import struct
import subprocess
import sys
import tempfile
import time

from spear_tui.capture.record import Recorder


def remaining_length(n: int) -> bytes:
    out = b""
    while True:
        digit, n = n % 128, n // 128
        out += bytes([digit | (0x80 if n else 0)])
        if not n:
            return out


def utf8(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def packet(header: int, body: bytes) -> bytes:
    return bytes([header]) + remaining_length(len(body)) + body


def subscribe(mid: int, topics: list[tuple[str, int]]) -> bytes:
    return packet(0x82, struct.pack(">H", mid) + b"".join(utf8(t) + bytes([q]) for t, q in topics))


def unsubscribe(mid: int, topics: list[str]) -> bytes:
    return packet(0xA2, struct.pack(">H", mid) + b"".join(utf8(t) for t in topics))


def publish(topic: str, mid: int, qos: int, payload: bytes = b"x") -> bytes:
    return packet(0x30 | (qos << 1), utf8(topic) + (struct.pack(">H", mid) if qos else b"") + payload)


def main(out: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conf = pathlib.Path(tempfile.mkdtemp()) / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    connect = packet(0x10, utf8("MQTT") + bytes([4, 2]) + struct.pack(">H", 30) + utf8("raw,client id [b]x"))
    try:
        with Recorder("lo", f"tcp port {port}", out):
            c = socket.create_connection(("127.0.0.1", port))
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.sendall(connect)
            time.sleep(0.2)
            c.sendall(
                subscribe(1, [("a/b", 0), ("c d/#", 1)])
                + publish("a/b", 0, 0)
                + subscribe(2, [("x/1", 2), ("x/2", 1), ("x/3", 0)])
                + publish("c d/e", 7, 1)
                + unsubscribe(3, ["a/b", "x/2"])
                + packet(0xC0, b"")
            )
            time.sleep(0.3)
            c.sendall(publish("t/1", 0, 0) + subscribe(4, [("only/one", 1)]) + publish("t/2", 9, 2)
                      + publish("t/3", 0, 0))
            time.sleep(0.3)
            c.sendall(packet(0xE0, b""))
            time.sleep(0.2)
            c.close()
    finally:
        broker.terminate()
        broker.wait()
    print(port)


if __name__ == "__main__":
    main(sys.argv[1])
