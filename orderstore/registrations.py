"""What a station's registration does at the store: it lands on the order's
draft packing slip, decided by the ledger (R4-R7, R17), once per id, in each
station's uplink order.

Stations register on order lines; the store keeps one draft packing slip per
order for them (opened with every open unit on the first scan or order request,
R5), so a packer never has to create one. Once it is posted the next scan opens
the next draft for what is still open, and reversed serials come back by
themselves (R11).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orderstore.database import LiveSaleConflict, StoreDatabase
from scangw import protocol
from scangw.sales.ledger import SalesLedger
from scangw.sales.reasons import SalesRuleError
from scangw.sales.records import PackingSlip, SlipStatus

log = logging.getLogger(__name__)

_CONFLICT_RETRIES = 3


@dataclass
class Applied:
    """What one commit did: acknowledgements per message, orders changed, gaps seen."""

    acks: list[list[protocol.Ack]] = field(default_factory=list)
    changed_orders: set[str] = field(default_factory=set)
    gaps: dict[str, tuple[str, int]] = field(default_factory=dict)
    """station -> (epoch, first missing uplink sequence number)."""


def draft_slip(ledger: SalesLedger, order_id: str, *, open_new: bool = True,
               ) -> PackingSlip | None:
    """The order's draft packing slip for stations; a new one for every open unit
    if there is none (None when nothing is left to ship)."""
    drafts = [s for s in ledger.packing_slips_of_order(order_id)
              if s.status is SlipStatus.DRAFT]
    if drafts:
        return drafts[-1]
    if not open_new:
        return None
    try:
        return ledger.open_packing_slip(order_id)
    except SalesRuleError:
        return None


def apply_batches(db: StoreDatabase, site: str,
                  batches: list[protocol.RegistrationBatch]) -> Applied:
    """Decide every registration of several messages in one transaction.

    A station's registrations take effect in its uplink sequence order: one that
    arrives ahead of a missing predecessor is held (not acknowledged) and the gap
    reported, so the station sends again from the first missing one.

    A serial another store instance sold in the meantime makes the database
    refuse the commit (R17's unique index); the batch is then decided again on
    the refreshed ledger, which refuses it as ``duplicate_serial``.
    """
    now = datetime.now(UTC).isoformat()
    for attempt in range(1, _CONFLICT_RETRIES + 1):
        result = Applied()
        try:
            with db.write() as ledger:
                for batch in batches:
                    result.acks.append(_apply_batch(db, ledger, site, batch, now, result))
        except LiveSaleConflict:
            if attempt == _CONFLICT_RETRIES:
                raise
            log.warning("store: a serial was sold elsewhere meanwhile; deciding %d message(s)"
                        " again", len(batches))
            continue
        return result
    raise AssertionError("unreachable")


def _apply_batch(db: StoreDatabase, ledger: SalesLedger, site: str,
                 batch: protocol.RegistrationBatch, now: str, result: Applied,
                 ) -> list[protocol.Ack]:
    conn = db.db
    key = (site, batch.station, batch.epoch)
    row = conn.one("SELECT contiguous FROM station_progress WHERE site = ? AND"
                   " station = ? AND epoch = ?" + conn.for_update, key)
    contiguous = 0 if row is None else int(row[0])
    acks = []
    for r in batch.registrations:
        seen = conn.one("SELECT status, reason, message FROM station_registrations"
                        " WHERE id = ?", (r.id,))
        if seen is not None:
            acks.append(protocol.Ack(id=r.id, status=seen[0], reason=seen[1], message=seen[2]))
            continue
        if r.seq > contiguous + 1:
            result.gaps.setdefault(batch.station, (batch.epoch, contiguous + 1))
            continue
        contiguous = max(contiguous, r.seq)
        slip_id, accepted, reason, message = _decide(ledger, r)
        if accepted:
            result.changed_orders.add(r.order_id)
        status = "accepted" if accepted else "refused"
        conn.execute(
            "INSERT INTO station_registrations VALUES"
            " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (r.id, site, batch.station, batch.epoch, r.seq, r.scanner, r.order_id,
             r.line_number, r.item_id, r.mode.value, r.serial, r.scanned_at.isoformat(), now,
             slip_id, status, reason, message))
        acks.append(protocol.Ack(id=r.id, status=status, reason=reason, message=message))
    conn.execute("INSERT INTO station_progress VALUES (?, ?, ?, ?) ON CONFLICT"
                 " (site, station, epoch) DO UPDATE SET contiguous = excluded.contiguous",
                 (*key, contiguous))
    return acks


def _decide(ledger: SalesLedger, r: protocol.Registration,
            ) -> tuple[str | None, bool, str, str]:
    try:
        ledger.order(r.order_id)
    except SalesRuleError as exc:
        return None, False, str(exc.reason), exc.message
    slip = draft_slip(ledger, r.order_id)
    if slip is None:
        return None, False, "nothing_to_ship", f"{r.order_id} has nothing left to ship"
    lines = {ln.line_number: ln for ln in ledger.packing_slip_lines(slip.id)}
    line = lines.get(r.line_number)
    if line is None:
        return slip.id, False, "unknown_line", (
            f"{r.order_id} line {r.line_number} is not on packing slip {slip.id}")
    if line.item_id != r.item_id:
        return slip.id, False, "wrong_item", (
            f"{r.order_id} line {r.line_number} is for {line.item_id}, not {r.item_id}")
    decision = ledger.register(slip.id, r.line_number, r.serial, r.mode)
    return slip.id, decision.accepted, str(decision.reason), decision.message


def order_state(ledger: SalesLedger, order_id: str, store_id: str, *, open_new: bool = True,
                ) -> protocol.OrderResponse | None:
    """What a station caches for an order: its draft slip's lines, or None if the
    order does not exist. Call inside ``write()``: with ``open_new`` it opens the
    draft when there is none (a station asked); without, it reports no lines."""
    try:
        ledger.order(order_id)
    except SalesRuleError:
        return None
    slip = draft_slip(ledger, order_id, open_new=open_new)
    if slip is None:
        return protocol.OrderResponse(store=store_id, order_id=order_id, found=True,
                                      message=f"{order_id} has nothing left to ship")
    lines = []
    for ln in ledger.packing_slip_lines(slip.id):
        view = ledger.line_view(slip.id, ln.line_number)
        lines.append(protocol.LineState(
            line_number=ln.line_number, item_id=ln.item_id, quantity=ln.quantity,
            serials=list(view.serials), gtins=list(ledger.item(ln.item_id).gtins)))
    return protocol.OrderResponse(store=store_id, order_id=order_id, found=True,
                                  document_id=slip.id, lines=lines)
