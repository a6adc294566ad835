"""MQTT actors: a mosquitto broker and paho-mqtt 2.2 clients, each client on its own 127.x address.

The paho clients run on the recorder's asyncio loop (paho's external-loop integration): a
publish is written to the socket synchronously, so the order on the wire is the schedule's.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from .capture import MQTT_PORT
from .errors import RecorderError

BROKER_ADDR = "127.0.0.1"


class Broker:
    """mosquitto with its own temporary config, listening on 127.0.0.1:1883."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="spear-mosq-")
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Broker:
        conf = Path(self.tmp.name) / "mosquitto.conf"
        conf.write_text(
            f"listener {MQTT_PORT} {BROKER_ADDR}\nallow_anonymous true\npersistence false\n"
            f"log_dest file {self.tmp.name}/mosquitto.log\nmax_inflight_messages 100\n"
        )
        self.proc = subprocess.Popen(
            ["/usr/sbin/mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection((BROKER_ADDR, MQTT_PORT), timeout=0.2):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    err = (self.proc.stderr.read() if self.proc.stderr else b"").decode(errors="replace")
                    raise RecorderError(f"mosquitto did not start: {err.strip()}") from None
                time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()


class MqttActor:
    """One paho client (MQTT 3.1.1) bound to its own source address."""

    def __init__(
        self,
        world: MqttWorld,
        client_id: str,
        address: str,
        keepalive: int = 2,
        subscriptions: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.world = world
        self.client_id = client_id
        self.address = address
        self.keepalive = keepalive
        self.subscriptions = subscriptions
        self.received = 0
        self.client = self._new_client()

    def _new_client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        return client

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # Without TCP_NODELAY, Nagle holds a small publish behind an unacknowledged one and two
        # clients' publishes can swap on the wire; the shuffle test needs the schedule's order.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.world.loop.add_reader(sock, self._read)

    def _on_socket_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        if sock.fileno() >= 0 and not self.world.loop.is_closed():
            self.world.loop.remove_reader(sock)

    def _read(self) -> None:
        self.client.loop_read(max_packets=100)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        for topic, qos in self.subscriptions:
            client.subscribe(topic, qos)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.received += 1

    def connect(self) -> None:
        if self.client.socket() is not None:
            return
        self.client.connect(BROKER_ADDR, MQTT_PORT, keepalive=self.keepalive, bind_address=self.address)

    def disconnect(self) -> None:
        # also while still waiting for CONNACK (a busy broker): DISCONNECT goes out all the same
        if self.client.socket() is not None:
            self.client.disconnect()

    def drop(self) -> None:
        """Lose the connection without DISCONNECT (Wi-Fi drop): the broker sees the socket close."""
        sock = self.client.socket()
        self.client.on_socket_close = None
        if sock is not None:
            self.world.loop.remove_reader(sock)
            sock.close()
        self.client = self._new_client()

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain)

    def subscribe(self, topic: str, qos: int = 0) -> None:
        self.client.subscribe(topic, qos)


class MqttWorld:
    """All MQTT actors of a recording plus the timer that runs paho's housekeeping."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.actors: dict[str, MqttActor] = {}
        self._timer: asyncio.Task[None] | None = None

    def add(self, name: str, client_id: str, address: str, **kw: Any) -> MqttActor:
        actor = MqttActor(self, client_id, address, **kw)
        self.actors[name] = actor
        return actor

    def start(self) -> None:
        self._timer = self.loop.create_task(self._misc())

    async def _misc(self) -> None:
        while True:
            for actor in list(self.actors.values()):
                client = actor.client
                if client.socket() is None:
                    continue
                if client.want_write():
                    client.loop_write()
                client.loop_misc()  # keepalive PINGREQ
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        for actor in self.actors.values():
            actor.disconnect()
        await asyncio.sleep(0.2)
        if self._timer:
            self._timer.cancel()
        for actor in self.actors.values():
            sock = actor.client.socket()
            actor.client.on_socket_close = None
            if sock is not None:
                self.loop.remove_reader(sock)
                sock.close()

    def dispatch(self, name: str, kind: str, args: dict[str, Any]) -> None:
        actor = self.actors[name]
        if kind == "connect":
            actor.connect()
        elif kind == "disconnect":
            actor.disconnect()
        elif kind == "drop":
            actor.drop()
        elif kind == "publish":
            if actor.client.socket() is None:
                actor.connect()
            actor.publish(args["topic"], args["payload"], args.get("qos", 0), args.get("retain", False))
        elif kind == "subscribe":
            actor.subscribe(args["topic"], args.get("qos", 0))
        else:
            raise ValueError(f"unknown MQTT action {kind}")
