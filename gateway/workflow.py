"""What a scan means at the station: a command, a line selection or a serial.

decode -> bounce filter -> command barcodes -> GS1 line selection -> scan rules
-> per-item serial pattern -> the serial rules of the current line. Pure apart
from opening an order, which may ask the store: that returns an awaitable and the
service holds later scans until it is done, so they land on the new order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from drivers.base import RawScan
from gateway.commands import BadCommand, Command, CommandName, recognise
from gateway.config import StationConfig
from gateway.debounce import Debouncer
from gateway.decoding import BadRead, DecodedScan, ScanKind, decode
from gateway.order_cache import CachedLine
from gateway.scan_rules import RuleRejected, ScanFacts, apply_scan_rules, check_item_serial
from gateway.station import Judgement, Station
from scangw import protocol
from scangw.sales.registration import ScanMode

FetchOrder = Callable[[str], Awaitable[list[CachedLine]]]
PostOrder = Callable[[str], Awaitable[protocol.PostResponse]]


class OrderUnavailable(LookupError):
    """The order is neither at the store (reachable now) nor in the station's cache."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A scan whose answer needs the store (opening an order)."""

    work: Awaitable[Judgement]
    scanner: str
    received_ns: int
    data: str


Outcome = Judgement | Pending | None
"""A decision to journal, work to await first, or nothing (a bounce)."""


class ScanWorkflow:
    def __init__(self, config: StationConfig, station: Station, fetch_order: FetchOrder,
                 post_order: PostOrder) -> None:
        self.config = config
        self.station = station
        self._fetch_order = fetch_order
        self._post_order = post_order
        self.debouncer = Debouncer.from_config(config.debounce)

    def handle(self, raw: RawScan) -> Outcome:
        decoded = decode(raw, self.config.decoder)
        if isinstance(decoded, BadRead):
            shown = raw.data[:64].decode("latin-1")
            return self.station.refuse(raw.scanner, raw.received_ns, shown, decoded.reason,
                                       decoded.message)
        if self.debouncer.is_bounce(raw.scanner, decoded.text, raw.received_ns):
            return None
        command = recognise(decoded.text, self.config.commands)
        if isinstance(command, BadCommand):
            return self._refuse(decoded, "unknown_command", command.message)
        if command is not None:
            return self.command(decoded.scanner, command, decoded.received_ns, decoded.text)
        return self._registration(decoded)

    # -- commands -------------------------------------------------------------------

    def command(self, scanner: str, command: Command, received_ns: int, data: str,
                ) -> Judgement | Pending:
        """Carry out a command barcode (or the same from a touch button)."""
        station = self.station
        name = command.name
        if name in (CommandName.MODE_ADD, CommandName.MODE_REMOVE):
            mode = ScanMode.ADD if name is CommandName.MODE_ADD else ScanMode.REMOVE
            station.context(scanner).mode = mode
            self.debouncer.forget(scanner)
            return station.note(scanner, received_ns, data, f"mode_{mode.value}",
                                f"{mode.value.upper()} mode")
        if name is CommandName.NOT_READABLE:
            return station.register(scanner, None, received_ns, data)
        if name is CommandName.OPEN_ORDER and command.argument is not None:
            return Pending(self._open_order(scanner, command.argument, received_ns, data),
                           scanner, received_ns, data)
        if name in (CommandName.NEXT_LINE, CommandName.PREV_LINE):
            step = 1 if name is CommandName.NEXT_LINE else -1
            line = station.move_line(scanner, step)
            if line is None:
                return station.refuse(scanner, received_ns, data, "no_more_lines",
                                      "no order open" if station.context(scanner).current
                                      is None else "there is no line that way")
            return station.note(scanner, received_ns, data, "line_selected", _describe(line))
        if name is CommandName.POST:
            current = station.context(scanner).current
            if current is None:
                return station.refuse(scanner, received_ns, data, "no_document",
                                      "nothing to post: no order open")
            return Pending(self._post(scanner, current[0], received_ns, data),
                           scanner, received_ns, data)
        if name is CommandName.UNDO_LAST:
            return self._undo(scanner, received_ns, data)
        if name is CommandName.CANCEL:
            closed = station.close_document(scanner)
            if closed is None:
                return station.refuse(scanner, received_ns, data, "no_document",
                                      "nothing to cancel: no order open")
            return station.note(scanner, received_ns, data, "document_closed",
                                f"{closed[0]} closed; scan the next order")
        return station.refuse(scanner, received_ns, data, "not_supported",
                              f"{name.value} is not available at this station yet")

    async def _open_order(self, scanner: str, order_id: str, received_ns: int,
                          data: str) -> Judgement:
        try:
            lines = await self._fetch_order(order_id)
        except OrderUnavailable as exc:
            return self.station.refuse(scanner, received_ns, data, "unknown_order", str(exc))
        if not lines:
            return self.station.refuse(scanner, received_ns, data, "unknown_order",
                                       f"{order_id} has no lines")
        first = min(ln.line_number for ln in lines)
        line = self.station.open_document(order_id, first, scanner)
        return self.station.note(scanner, received_ns, data, "order_opened",
                                 f"{order_id} open: {_describe(line)}")

    async def _post(self, scanner: str, order_id: str, received_ns: int,
                    data: str) -> Judgement:
        """POST: the store posts the order's draft packing slip (R2-R4); the station
        then moves to the next draft, or closes the order when all is shipped."""
        try:
            answer = await self._post_order(order_id)
        except TimeoutError:
            return self.station.refuse(scanner, received_ns, data, "store_unreachable",
                                       "posting needs the order store, which did not answer:"
                                       " scan POST again when it is back")
        if not answer.posted:
            return self.station.refuse(scanner, received_ns, data, answer.reason,
                                       answer.message)
        try:
            lines = await self._fetch_order(order_id)
        except (OrderUnavailable, TimeoutError):
            lines = []
        open_lines = [ln for ln in lines if ln.quantity > 0]
        if open_lines:
            first = min(ln.line_number for ln in open_lines)
            self.station.open_document(order_id, first, scanner)
            rest = "; the rest of the order is open"
        else:
            self.station.close_document(scanner)
            rest = "; the order is fully shipped"
        return self.station.note(scanner, received_ns, data, "posted", answer.message + rest)

    def _undo(self, scanner: str, received_ns: int, data: str) -> Judgement:
        ctx = self.station.context(scanner)
        last = ctx.last
        if last is None or last.mode is None or last.order_id is None:
            return self.station.refuse(scanner, received_ns, data, "nothing_to_undo",
                                       "nothing to undo")
        if ctx.current != (last.order_id, last.line_number):
            assert last.line_number is not None
            self.station.open_document(last.order_id, last.line_number, scanner)
        inverse = ScanMode.REMOVE if last.mode == ScanMode.ADD.value else ScanMode.ADD
        judgement = self.station.register(scanner, last.serial, received_ns, data, inverse)
        ctx.last = None  # one step of undo; the undo itself is not undone again
        return judgement

    # -- registrations --------------------------------------------------------------

    def _registration(self, scan: DecodedScan) -> Judgement:
        station = self.station
        ctx = station.context(scan.scanner)
        if scan.gtin is not None:
            selected = self._select_by_gtin(scan)
            if isinstance(selected, Judgement) or scan.kind is ScanKind.GTIN:
                return selected if isinstance(selected, Judgement) else station.note(
                    scan.scanner, scan.received_ns, scan.text, "line_selected",
                    _describe(selected))
        if scan.kind in (ScanKind.GS1, ScanKind.DIGITAL_LINK) and scan.serial is None:
            return self._refuse(scan, "no_serial",
                                "this barcode carries no serial number (AI 21): scan the serial")
        line = station.line(*ctx.current) if ctx.current else None
        facts = ScanFacts.of(scan, ctx.mode.value, line.item_id if line else None)
        ruled = apply_scan_rules(self.config.scan_rules, facts)
        if isinstance(ruled, RuleRejected):
            return self._refuse(scan, "rule_rejected", ruled.message)
        if ruled.line is not None or ruled.item is not None:
            routed = self._route(scan, ruled.item, ruled.line)
            if isinstance(routed, Judgement):
                return routed
            line = routed
        serial = ruled.data
        if line is not None:
            problem = check_item_serial(serial, line.item_id, self.config.serial_patterns)
            if problem is not None:
                return self._refuse(scan, "serial_pattern", problem)
        return station.register(scan.scanner, serial, scan.received_ns, scan.text)

    def _select_by_gtin(self, scan: DecodedScan) -> CachedLine | Judgement:
        ctx = self.station.context(scan.scanner)
        if ctx.current is None:
            return self._refuse(scan, "no_document", "no order open: scan an order first")
        lines = [ln for ln in self.station.order_lines(ctx.current[0])
                 if scan.gtin in ln.gtins]
        if not lines:
            return self._refuse(scan, "item_not_on_order",
                                f"GTIN {scan.gtin} is not on {ctx.current[0]}")
        # prefer the current line, then the first line that still has room
        chosen = next((ln for ln in lines if (ln.order_id, ln.line_number) == ctx.current),
                      None) or next((ln for ln in lines if len(ln.serials) < ln.quantity),
                                    lines[0])
        self.station.open_document(chosen.order_id, chosen.line_number, scan.scanner)
        return chosen

    def _route(self, scan: DecodedScan, item: str | None, line_number: int | None,
               ) -> CachedLine | Judgement:
        ctx = self.station.context(scan.scanner)
        if ctx.current is None:
            return self._refuse(scan, "no_document", "no order open: scan an order first")
        lines = self.station.order_lines(ctx.current[0])
        target = next((ln for ln in lines if (line_number is None or
                                              ln.line_number == line_number)
                       and (item is None or ln.item_id == item)), None)
        if target is None:
            what = f"line {line_number}" if line_number is not None else f"item {item}"
            return self._refuse(scan, "item_not_on_order",
                                f"{what} is not on {ctx.current[0]}")
        self.station.open_document(target.order_id, target.line_number, scan.scanner)
        return target

    def _refuse(self, scan: DecodedScan, reason: str, message: str) -> Judgement:
        return self.station.refuse(scan.scanner, scan.received_ns, scan.text, reason, message)


def _describe(line: CachedLine) -> str:
    return (f"line {line.line_number} {line.item_id}, "
            f"{len(line.serials)} of {line.quantity} registered")
