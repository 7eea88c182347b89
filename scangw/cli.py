"""The ``scangw`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from scangw import __version__
from scangw.mqtt import SecretMissing

M = TypeVar("M", bound=BaseModel)


def _config(model: type[M], path: Path) -> M | None:
    """The validated config file, or None after printing every problem in it."""
    from scangw.configfile import ConfigError, load

    try:
        return load(model, path)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return None


def _cmd_demo(args: argparse.Namespace) -> int:
    from scangw.demo import run_demo
    from scangw.mqtt import BrokerConfig

    broker = None
    if args.broker:
        host, _, port = args.broker.rpartition(":")
        broker = BrokerConfig(host=host or "127.0.0.1", port=int(port))
    return run_demo(broker)


def _cmd_check(args: argparse.Namespace) -> int:
    from scangw.configfile import ConfigError, read_yaml, validate

    failed = 0
    for path in args.files:
        try:
            data = read_yaml(path)
            model = _model_for(data)
            validate(model, data, str(path))
        except ConfigError as exc:
            print(exc.render())
            failed += 1
        else:
            print(f"{path}: ok ({model.__name__})")
    return 1 if failed else 0


def _model_for(data: Any) -> Any:
    from gateway.config import StationConfig
    from orderstore.config import StoreConfig

    if isinstance(data, dict) and "store" in data and "station" not in data:
        return StoreConfig
    return StationConfig


def _cmd_station(args: argparse.Namespace) -> int:
    from gateway.config import StationConfig
    from gateway.service import StationService
    from scangw.configfile import ConfigError, load

    config = _config(StationConfig, args.config)
    if config is None:
        return 1

    async def serve() -> None:
        service = StationService(config)
        try:
            await service.start()
        except SecretMissing:
            await service.stop()
            raise

        def reload() -> None:
            try:
                service.reload(load(StationConfig, args.config))
            except ConfigError as exc:
                logging.getLogger("scangw").error(
                    "config not reloaded, still running on the old one: %s", exc)

        try:
            await _serve(f"{len(service.scanners)} scanner(s)", on_reload=reload)
        finally:
            await service.stop()

    try:
        asyncio.run(serve())
    except SecretMissing as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_store(args: argparse.Namespace) -> int:
    from orderstore.config import StoreConfig
    from orderstore.service import StoreService

    config = _config(StoreConfig, args.config)
    if config is None:
        return 1
    try:
        service = StoreService(config)
    except SecretMissing as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 1
    service.start()
    try:
        asyncio.run(_serve("store ready", service.healthy))
    finally:
        service.stop()
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from gateway.status_report import fetch_status, render_status

    try:
        status = fetch_status(args.url, args.config)
    except OSError as exc:
        print(f"no running station answered: {exc} (is scangw-station running? "
              "is monitor.enabled true in its config?)", file=sys.stderr)
        return 1
    print(render_status(status, args.json))
    return 0


def _cmd_outbox(args: argparse.Namespace) -> int:
    from gateway.outbox_report import run

    return run(args.config, args.json)


def _cmd_devices(_args: argparse.Namespace) -> int:
    from drivers.discovery import devices_report

    print(devices_report())
    return 0


def _cmd_listen(args: argparse.Namespace) -> int:
    from drivers.listen import listen
    from gateway.config import StationConfig

    config = _config(StationConfig, args.config)
    if config is None:
        return 1
    unknown = [n for n in args.names if n not in config.scanners]
    if unknown:
        print(f"no scanner named {', '.join(unknown)} in {args.config} "
              f"(it has {', '.join(config.scanners)})", file=sys.stderr)
        return 1
    chosen = {n: c for n, c in config.scanners.items() if not args.names or n in args.names}
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(listen(chosen))
    return 0


def _cmd_config_reference(args: argparse.Namespace) -> int:
    from scangw import configref

    if args.check is not None:
        return configref.main(["--check", str(args.check)])
    print(configref.render_reference(), end="")
    return 0


def _cmd_commands_sheet(args: argparse.Namespace) -> int:
    from gateway.command_sheet import write_command_sheet
    from gateway.commands import CommandConfig

    config = CommandConfig()
    if args.config is not None:
        from gateway.config import StationConfig

        station = _config(StationConfig, args.config)
        if station is None:
            return 1
        config = station.commands
    path = write_command_sheet(args.out, config, args.page_size, args.order, args.slip)
    print(f"wrote {path}")
    return 0


async def _serve(status: str, healthy: Callable[[], bool] | None = None,
                 on_reload: Callable[[], None] | None = None) -> None:
    """Tell systemd we are ready (signal handlers first, so a stop right after READY
    is a clean one), ping its watchdog, reload on SIGHUP, return on SIGTERM/SIGINT."""
    from gateway.notify import supervised

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with supervised(status, healthy) as notifier:
        if on_reload is not None:
            def reload() -> None:
                notifier.reloading()
                on_reload()
                notifier.ready(status)
            loop.add_signal_handler(signal.SIGHUP, reload)
        await stop.wait()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scangw", description="Scanner gateway for packing lines."
    )
    parser.add_argument("--version", action="version", version=f"scangw {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--log-json", action="store_true", help="log one JSON object a line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run a demo station, store and broker on this machine",
                          description="Start a private Mosquitto (unless --broker is given), "
                          "an order store with a sample order and a station with a simulated "
                          "serial scanner; type a scan script and print every decision and "
                          "confirmation.")
    demo.add_argument("--broker", metavar="HOST:PORT", help="use this broker instead")
    demo.set_defaults(func=_cmd_demo)

    check = sub.add_parser("check", help="validate station or store config files",
                           description="Print every problem as 'key.path: problem (hint)' and "
                           "exit 1, or 'ok' and exit 0.")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(func=_cmd_check)

    station = sub.add_parser("station", help="run the station gateway",
                             description="Run the station gateway until SIGTERM/SIGINT.")
    station.add_argument("--config", type=Path, default=Path("/etc/scangw/station.yaml"))
    station.set_defaults(func=_cmd_station)

    store = sub.add_parser("store", help="run the order store",
                           description="Run the order store until SIGTERM/SIGINT.")
    store.add_argument("--config", type=Path, default=Path("/etc/scangw/store.yaml"))
    store.set_defaults(func=_cmd_store)
    from orderstore.admin import add_store_tools

    add_store_tools(store)

    status = sub.add_parser(
        "status", help="ask the running station how it is",
        description="Scanners online/offline, mode and order per scanner, outbox depth, "
        "broker connection and the last problems, from the running station's monitor port.")
    status.add_argument("--config", type=Path, default=Path("/etc/scangw/station.yaml"),
                        help="the station config, for its monitor address")
    status.add_argument("--url", default=None, help="e.g. http://127.0.0.1:9108")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(func=_cmd_status)

    outbox = sub.add_parser(
        "outbox", help="what the station still has to deliver to the store, and why",
        description="Read the station's journal (read-only, also while it runs): outbox "
        "depth, the oldest waiting registration, late refusals and what to check when it is "
        "stuck. Exit 2 when the outbox looks stuck (for monitoring).")
    outbox.add_argument("--config", type=Path, default=Path("/etc/scangw/station.yaml"))
    outbox.add_argument("--json", action="store_true", help="one JSON object")
    outbox.set_defaults(func=_cmd_outbox)

    devices = sub.add_parser(
        "devices", help="list scanners attached to this machine with config snippets",
        description="List serial ports, input devices and USB HID POS scanners, each with a "
        "ready config snippet for the station config; hints when permissions are missing.")
    devices.set_defaults(func=_cmd_devices)

    listen = sub.add_parser(
        "listen", help="show what the configured scanners send, byte by byte",
        description="Run the station config's scanners without a station and print every "
        "scan with its control bytes named, and every online/offline change. Ctrl+C stops.")
    listen.add_argument("--config", type=Path, default=Path("/etc/scangw/station.yaml"))
    listen.add_argument("names", nargs="*", metavar="NAME", help="only these scanners")
    listen.set_defaults(func=_cmd_listen)

    from orderstore.office import add_commands

    add_commands(sub)

    config = sub.add_parser("config", help="config file tools")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="TOOL")
    reference = config_sub.add_parser(
        "reference", help="print the config reference (every key, type, default, example)",
        description="Print the Markdown config reference generated from the config models.")
    reference.add_argument("--check", type=Path, metavar="FILE",
                           help="exit 1 if FILE differs from the generated reference")
    reference.set_defaults(func=_cmd_config_reference)

    commands = sub.add_parser("commands", help="command barcodes")
    commands_sub = commands.add_subparsers(dest="commands_command", required=True,
                                           metavar="TOOL")
    sheet = commands_sub.add_parser(
        "sheet", help="write a printable PDF of the command barcodes (Code 128)",
        description="Write a PDF sheet of every command barcode for the packing line, "
        "with the prefix of the station config if one is given.")
    sheet.add_argument("--out", type=Path, required=True, metavar="FILE")
    sheet.add_argument("--config", type=Path, metavar="STATION_YAML")
    sheet.add_argument("--page-size", choices=["A4", "Letter"], default="A4")
    sheet.add_argument("--order", action="append", default=[], metavar="ORDER_ID",
                       help="also print an open-order barcode for this order")
    sheet.add_argument("--slip", action="append", default=[], metavar="SLIP_ID")
    sheet.set_defaults(func=_cmd_commands_sheet)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("station", "store"):
        from scangw.logs import setup_logging

        setup_logging(args.verbose, args.log_json)
    else:
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
