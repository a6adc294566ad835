"""Accept an alert as normal: its baseline rows join the site, recorded in the manifest (who, when).

The rows are exactly what the novelty rules themselves add when an alert closes (`additions`), so the
next occurrence of the same master->unit write, client id, topic prefix or BACnet service does not
alert. Undo (`unaccept`) removes the record; baselines are rebuilt from the learned file plus the
remaining records every time a site is opened, so nothing accepted lingers.
"""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path
from typing import Any

from spear_tui.errors import UserError
from spear_tui.events import Alert
from spear_tui.site.manifest import Accepted
from spear_tui.site.profile import Site


def store_key(path: str | Path, alert_id: int) -> str:
    return f"{Path(path).resolve()}#{alert_id}"


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def alert_adds(alert: Alert) -> dict[str, list[list[Any]]]:
    """The alert's baseline rows, checked against its protocol's rules; UserError if there are none."""
    from spear_tui.detect.novelty.detector import RULESETS

    if not alert.accept or alert.protocol not in RULESETS:
        raise UserError(
            "this alert has nothing to accept: only novelty alerts about something new (a master, a write, "
            "a client id, a topic prefix, a service) can be accepted, not LSTM or rate alerts"
        )
    try:
        adds = json.loads(alert.accept)
        RULESETS[alert.protocol]().apply(adds)  # refuses unknown sets and malformed rows
    except (ValueError, TypeError, AttributeError) as exc:
        raise UserError(f"the alert's accept data is damaged: {exc}".splitlines()[0]) from None
    return adds


def accept_alert(site: Site, alert: Alert, key: str, who: str | None = None) -> Accepted:
    if site.sample:
        raise UserError("the sample site is read-only; learn your own: spear-tui learn CAPTURE --site NAME")
    adds = alert_adds(alert)
    if any(a.id == key for a in site.manifest.accepted):
        raise UserError(f"{key} is already accepted on site {site.name}")
    item = Accepted(key, alert.protocol, adds, alert.reason, who or current_user(), time.time())
    site.manifest.accepted.append(item)
    site.save()
    return item


def unaccept(site: Site, key: str) -> Accepted:
    hits = [a for a in site.manifest.accepted if a.id == key or a.id.endswith(f"#{key}")]
    if not hits:
        raise UserError(f"nothing accepted on site {site.name} with id {key!r} (see `spear-tui site show`)")
    if len(hits) > 1:
        raise UserError(f"{len(hits)} accepted items end in #{key}; give --store or the full id")
    site.manifest.accepted.remove(hits[0])
    site.save()
    return hits[0]


def apply_accepted(site: Site, detector: Any) -> int:
    """Add a site's accepted rows to a novelty detector of the same protocol; returns rows added."""
    n = 0
    for item in site.manifest.accepted:
        if item.protocol == detector.protocol:
            n += detector.accept(item.adds)
    return n
