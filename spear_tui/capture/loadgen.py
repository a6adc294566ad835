"""Real MQTT traffic from paho-mqtt clients, for recording test and benchmark captures.

Not a simulator of packets: real clients talk to a real broker; what lands in the capture is whatever
the TCP stacks made of it (including many MQTT messages coalesced into one segment).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def mqtt_burst(
    host: str,
    port: int,
    clients: int = 4,
    messages: int = 1000,
    qos_cycle: tuple[int, ...] = (0, 1, 2),
    topics_per_subscribe: int = 3,
    payload: bytes = b"21.5",
    prefix: str = "spear",
) -> int:
    """`clients` paho clients each SUBSCRIBE to several topics at once, then publish `messages` messages
    as fast as they can with QoS cycling through `qos_cycle`; returns how many publishes completed."""
    import paho.mqtt.client as mqtt

    def run(i: int) -> int:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-client-{i}")
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        c.connect(host, port, keepalive=30)
        c.loop_start()
        try:
            subs = [(f"{prefix}/{i}/cmd/{k}", k % 3) for k in range(topics_per_subscribe)]
            c.subscribe(subs)
            infos = []
            for n in range(messages):
                qos = qos_cycle[n % len(qos_cycle)]
                infos.append(c.publish(f"{prefix}/{i}/sensor/{n % 7}", payload, qos=qos))
            for info in infos:
                info.wait_for_publish(timeout=30)
            c.unsubscribe([s[0] for s in subs])
            time.sleep(0.2)
            return sum(1 for x in infos if x.is_published())
        finally:
            c.disconnect()
            c.loop_stop()

    return _each_in_a_thread(clients, run)


def mqtt_paced(host: str, port: int, clients: int = 4, messages: int = 1000, prefix: str = "spear") -> int:
    """`clients` paho clients each publish `messages` QoS 1 messages, each only after the broker has
    acknowledged the one before (a sensor's rhythm, at loopback speed): about one MQTT message per TCP
    segment, where `mqtt_burst` coalesces several. Returns how many publishes were acknowledged."""
    import paho.mqtt.client as mqtt

    def run(i: int) -> int:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-paced-{i}")
        c.connect(host, port, keepalive=30)
        c.loop_start()
        acked = 0
        try:
            for n in range(messages):
                info = c.publish(f"{prefix}/{i}/sensor/{n % 7}", b"21.5", qos=1)
                info.wait_for_publish(timeout=30)
                acked += info.is_published()
            return acked
        finally:
            c.disconnect()
            c.loop_stop()

    return _each_in_a_thread(clients, run)


def _each_in_a_thread(clients: int, run: Callable[[int], int]) -> int:
    """run(0..clients-1) at once, one thread each; the sum of what they return (a failed one: 0)."""
    counts = [0] * clients

    def one(i: int) -> None:
        counts[i] = run(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)
