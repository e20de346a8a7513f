"""Public links (/f/<form_id>): counting each request against the abuse limits, and taking an
answer, for the link's form and unit, once per dossier.

The counts are kept in SQLite (storage.channels.count_request), so every server process shares
them. A limit can never turn away a busy centre (many citizens behind one address, one poster
QR code): the defaults are generous and 0 turns a limit off.
"""
from __future__ import annotations

from dataclasses import dataclass

from storage import channels

from .dossiers import receive_once_per_dossier
from .receive.accept import Result, Upload, bound_to
from .receive.parse import Instance


@dataclass
class Over:
    """A request over a limit: which one (the catalogue's key), and for how long to wait."""
    key: str            # "rate_ip" or "rate_link"
    bucket: str
    limit: int
    retry_after: int    # seconds


def count_request(db, *, client: str, link: str, per_ip: int, per_link: int, window: int,
                  now: float) -> Over | None:
    """Count one request of `client` (its address) on `link` in a sliding `window` of seconds;
    the first limit it goes over, or None."""
    limits = [(f"ip:{client}", "rate_ip", per_ip), (f"link:{link}", "rate_link", per_link)]
    limits = [limit for limit in limits if limit[2] > 0]
    if not limits or window <= 0:
        return None
    over = channels.count_request(db, [(bucket, limit) for bucket, _key, limit in limits], now, window)
    if over is None:
        return None
    key, limit = next((key, limit) for bucket, key, limit in limits if bucket == over)
    # the sliding count falls fastest once the current window ends
    return Over(key, over, limit, max(60, int(window - now % window)))


def receive_answer(db, blobs, *, form_id: str, unit: dict | None, xml: bytes, uploads: list[Upload],
                   inst: Instance) -> Result:
    """An answer through the link of `form_id` (and of `unit`, a unit in force using the form,
    if the link names one): stored as "online", for that unit's subtree, once per dossier."""
    if inst.form_id != form_id:
        return Result("wrong_form")
    return receive_once_per_dossier(db, blobs, xml=xml, uploads=uploads, inst=inst,
                                    submitter=bound_to(unit["code"] if unit else None),
                                    device_id=None, arrival_channel="online")
