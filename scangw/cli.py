"""The ``scangw`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from scangw import __version__


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

    try:
        config = load(StationConfig, args.config)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return 1

    async def serve() -> None:
        service = StationService(config)
        await service.start()
        try:
            await _until_signalled()
        finally:
            await service.stop()

    asyncio.run(serve())
    return 0


def _cmd_store(args: argparse.Namespace) -> int:
    from orderstore.config import StoreConfig
    from orderstore.service import StoreService
    from scangw.configfile import ConfigError, load

    try:
        config = load(StoreConfig, args.config)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    service = StoreService(config)
    service.start()
    try:
        asyncio.run(_until_signalled())
    finally:
        service.stop()
    return 0


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scangw", description="Scanner gateway for packing lines."
    )
    parser.add_argument("--version", action="version", version=f"scangw {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
