"""Office work on the order store from the command line: import, packing slips,
invoices, returns, inquiry, trace and printing.

Each command opens the store's database directly and runs as one write
transaction on the ledger, so it is all or nothing; a running store notices the
commit (the store's revision row) and tells the stations holding the changed orders.
Output is for people by default, ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from orderstore.backends import StoreUnavailable
from orderstore.config import StoreConfig
from orderstore.database import LiveSaleConflict, StoreDatabase
from orderstore.importing import ImportDataError, load_into, read_files
from orderstore.printing import render_pdf, render_text
from scangw.configfile import ConfigError, load
from scangw.sales.ledger import SalesLedger
from scangw.sales.reasons import Reason, SalesRuleError
from scangw.sales.records import SlipStatus
from scangw.sales.registration import Decision, ScanMode

Handler = Callable[[SalesLedger, argparse.Namespace], Any]


def command(parent: Any, name: str, handler: Handler, help_text: str,
            write: bool = True) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = parent.add_parser(name, help=help_text.split(";", maxsplit=1)[0],
                                                   description=help_text)
    p.add_argument("--store-config", type=Path, default=Path("/etc/scangw/store.yaml"),
                   metavar="FILE", help="the order store's config (for its database)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=lambda args: run_office(args, handler, write))
    return p


def add_commands(sub: Any) -> None:
    """Register the office commands on the ``scangw`` subparsers."""
    _documents(sub)
    _invoices_and_returns(sub)
    _lookups(sub)


def _documents(sub: Any) -> None:
    orders = sub.add_parser("orders", help="import master data and sales orders")
    orders_sub = orders.add_subparsers(dest="orders_command", required=True, metavar="TOOL")
    p = command(orders_sub, "import", import_files,
                "Import tracking groups, items, customers and orders from CSV files (kind "
                "from the file name: groups.csv, items.csv, customers.csv, orders.csv) or JSON,"
                " all or nothing; every bad row is reported by file, row and column.")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")

    slip = sub.add_parser("slip", help="packing slips: open, post, cancel, correct, change")
    slip_sub = slip.add_subparsers(dest="slip_command", required=True, metavar="TOOL")
    p = command(slip_sub, "open", _slip_open, "Open a draft packing slip (R5); without "
                "--qty every open unit of the order.")
    p.add_argument("order")
    p.add_argument("--qty", action="append", default=[], metavar="LINE=UNITS")
    p = command(slip_sub, "post", _slip_post, "Post a draft packing slip (R2-R4).")
    p.add_argument("slip")
    p.add_argument("--date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD")
    p = command(slip_sub, "cancel", _slip_cancel, "Cancel a posted packing slip (R11).")
    p.add_argument("slip")
    p = command(slip_sub, "correct", _slip_correct,
                "Correct a posted packing-slip line by its whole quantity (R11).")
    p.add_argument("slip")
    p.add_argument("line", type=int)
    p = command(slip_sub, "change-serial", _slip_change,
                "Change a registered serial, or fill a not-readable blank with OLD '-' (R10).")
    p.add_argument("slip")
    p.add_argument("line", type=int)
    p.add_argument("old")
    p.add_argument("new")


def _invoices_and_returns(sub: Any) -> None:
    invoice = sub.add_parser("invoice", help="invoices: open, select serials, post")
    inv_sub = invoice.add_subparsers(dest="invoice_command", required=True, metavar="TOOL")
    p = command(inv_sub, "open", _invoice_open, "Open a draft invoice for shipped units.")
    p.add_argument("order")
    p.add_argument("--qty", action="append", required=True, metavar="LINE=UNITS")
    p = command(inv_sub, "select", _invoice_select,
                "Select a shipped serial for an invoice line (R8); '-' is a not-readable unit.")
    p.add_argument("invoice")
    p.add_argument("line", type=int)
    p.add_argument("serial")
    p.add_argument("--remove", action="store_true", help="take it off the selection")
    p = command(inv_sub, "select-slip", _invoice_select_slip,
                "Select every not yet invoiced serial of a packing slip (R8, R9).")
    p.add_argument("invoice")
    p.add_argument("slip")
    p = command(inv_sub, "post", _invoice_post, "Post a draft invoice (R8, R9).")
    p.add_argument("invoice")
    p.add_argument("--date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD")

    ret = sub.add_parser("return", help="returns: open, register serials, receive (R12)")
    ret_sub = ret.add_subparsers(dest="return_command", required=True, metavar="TOOL")
    p = command(ret_sub, "open", _return_open, "Open a draft return from a customer.")
    p.add_argument("customer")
    p.add_argument("--line", action="append", required=True, metavar="N=ITEM:UNITS")
    p.add_argument("--order", default=None, help="the sales order the units came from")
    p = command(ret_sub, "register", _return_register, "Register a returned serial (R12).")
    p.add_argument("rma")
    p.add_argument("line", type=int)
    p.add_argument("serial")
    p = command(ret_sub, "receive", _return_receive, "Receive (post) a return.")
    p.add_argument("rma")
    p.add_argument("--date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD")


def _lookups(sub: Any) -> None:
    p = command(sub, "inquiry", _inquiry, "List the serials of a packing-slip, invoice or "
                "return journal line (R13).", write=False)
    p.add_argument("document")
    p.add_argument("line", type=int)
    p = command(sub, "trace", _trace, "Find the invoice and customer a serial was sold to, "
                "the sale date and the warranty (R18).", write=False)
    p.add_argument("serial")
    p.add_argument("--today", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD")
    p.add_argument("--item", default=None)
    p = command(sub, "print", _print, "Print a posted packing slip or invoice with its "
                "serials (R14): text to stdout, or PDF with --pdf.", write=False)
    p.add_argument("document")
    p.add_argument("--pdf", type=Path, default=None, metavar="FILE")


def run_office(args: argparse.Namespace, handler: Handler, write: bool) -> int:
    try:
        config = load(StoreConfig, args.store_config)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    try:
        db = StoreDatabase(config.store)
    except StoreUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    try:
        if write:
            with db.write() as ledger:
                result = handler(ledger, args)
        else:
            result = handler(db.read(), args)
    except SalesRuleError as exc:
        print(f"refused ({exc.reason}): {exc.message}", file=sys.stderr)
        return 1
    except (ImportDataError, LiveSaleConflict) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        db.close()
    if isinstance(result, Decision) and not result.accepted:
        print(f"refused ({result.reason}): {result.message}", file=sys.stderr)
        return 1
    print(json.dumps(_plain(result), indent=2) if args.json else _human(result))
    return 0


# -- handlers ----------------------------------------------------------------------

def import_files(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    batch = read_files(args.files, known=ledger.records())
    load_into(ledger, batch)
    counts: dict[str, int] = {}
    for record in batch.records():
        counts[type(record).__name__] = counts.get(type(record).__name__, 0) + 1
    return {"imported": counts}


def _quantities(pairs: list[str]) -> dict[int, int] | None:
    if not pairs:
        return None
    try:
        return {int(a): int(b) for a, b in (p.split("=", 1) for p in pairs)}
    except ValueError:
        raise SystemExit(f"--qty takes LINE=UNITS, e.g. --qty 1=2, not {pairs}") from None


def _slip_open(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    slip = ledger.open_packing_slip(args.order, _quantities(args.qty))
    return {"packing_slip": slip, "lines": ledger.packing_slip_lines(slip.id)}


def _slip_post(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    return ledger.post_packing_slip(args.slip, args.date or date.today())


def _slip_cancel(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    cancelled = ledger.cancel_packing_slip(args.slip)
    return {"cancelled": cancelled, "discarded": refresh_drafts(ledger, cancelled.order_id)}


def _slip_correct(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    corrected = ledger.correct_packing_slip_line(args.slip, args.line, 0)
    order_id = ledger.packing_slip(args.slip).order_id
    return {"corrected": corrected, "discarded": refresh_drafts(ledger, order_id)}


def refresh_drafts(ledger: SalesLedger, order_id: str) -> list[str]:
    """After a cancel or correction, drop the order's drafts that nobody scanned on
    yet, so the next one (opened for stations on demand) covers the units again and
    takes over the reversed serials without scanning (R11)."""
    dropped = []
    for slip in ledger.packing_slips_of_order(order_id):
        if slip.status is not SlipStatus.DRAFT:
            continue
        lines = ledger.packing_slip_lines(slip.id)
        if all(not ledger.line_view(slip.id, ln.line_number).serials for ln in lines):
            ledger.discard_packing_slip(slip.id)
            dropped.append(slip.id)
    return dropped


def _slip_change(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    return ledger.change_serial(args.slip, args.line, _serial(args.old), args.new)


def _invoice_open(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    return ledger.open_invoice(args.order, _quantities(args.qty) or {})


def _invoice_select(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    mode = ScanMode.REMOVE if args.remove else ScanMode.ADD
    return ledger.select_for_invoice(args.invoice, args.line, _serial(args.serial), mode)


def _invoice_select_slip(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    decisions = ledger.select_packing_slip(args.invoice, args.slip)
    refused = [d for d in decisions if not d.accepted]
    if refused:
        raise SalesRuleError(Reason(refused[0].reason), refused[0].message)  # nothing kept
    return decisions


def _invoice_post(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    return ledger.post_invoice(args.invoice, args.date or date.today())


def _return_open(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    lines: dict[int, tuple[str, int]] = {}
    for spec in args.line:
        try:
            number, rest = spec.split("=", 1)
            item, units = rest.rsplit(":", 1)
            lines[int(number)] = (item, int(units))
        except ValueError:
            raise SystemExit(f"--line takes N=ITEM:UNITS, e.g. 1=PHONE-X1:1, not {spec}"
                             ) from None
    return ledger.open_return(args.customer, lines, order_id=args.order)


def _return_register(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    return ledger.register_return(args.rma, args.line, _serial(args.serial))


def _return_receive(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    return ledger.receive_return(args.rma, args.date or date.today())


def _inquiry(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    return ledger.journal_line(args.document, args.line)


def _trace(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    found = ledger.trace(args.serial, today=args.today or date.today(), item_id=args.item)
    if not found:
        raise SalesRuleError(Reason.UNKNOWN_RECORD,
                             f"{args.serial} was not shipped on any posted packing slip")
    return found


def _print(ledger: SalesLedger, args: argparse.Namespace) -> Any:
    document = ledger.printable(args.document)
    if args.pdf is not None:
        args.pdf.write_bytes(render_pdf(document))
        return {"written": str(args.pdf), "document": args.document}
    return render_text(document)


def _serial(text: str) -> str | None:
    return None if text == "-" else text


# -- output ------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _human(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_human(v) for v in value)
    if isinstance(value, Decision):
        return value.message
    if hasattr(value, "warranty_state"):
        t = value
        sold = (f"invoice {t.invoice_id} on {t.sale_date}" if t.invoice_id
                else "not invoiced yet")
        returned = f"; returned on {', '.join(t.returns)}" if t.returns else ""
        return (f"{t.serial} ({t.item_id} {t.item_name}): order {t.order_id}, customer "
                f"{t.customer_id} {t.customer_name}, packing slip {t.packing_slip_id} shipped"
                f" {t.shipped_on}, {sold}; warranty {t.warranty_state}{returned}")
    plain = _plain(value)
    if isinstance(plain, dict) and set(plain) == {"imported"}:
        return "imported " + ", ".join(f"{n} {kind}" for kind, n in
                                       sorted(plain["imported"].items()))
    if isinstance(plain, dict):
        return "\n".join(f"{k}: {v}" for k, v in plain.items())
    return str(plain)
