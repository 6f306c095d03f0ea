"""Measure tap-ordoro and target-ordoro against the sandbox: time against the rate limit, CPU,
memory.

    python scripts/benchmark.py                  # every case below (about 10 minutes)
    python scripts/benchmark.py --quick          # smaller data, for a first look
    python scripts/benchmark.py --only tap-orders --latency-ms 500

Every case runs in a process of its own (so CPU seconds and peak RSS are that case's), against
a sandbox in another process on a loopback port, and prints one JSON line and one table row:

* ``wall_s``: the run's wall time;
* ``bound_s``: the rate-limit bound, the least time the rate allows for the pages the data
  needs (``ceil(records / 100)`` per list; orders and shipments share one list, products and
  inventory another): ``pages / (requests_per_minute / 60)``;
* ``ratio``: ``wall_s / bound_s`` (1.0: the rate limit set the pace; the goal is at most 1.15);
* ``records_per_s``, ``cpu_s`` (user + system of the case's process), ``peak_rss_mib``;
* ``requests`` and ``responses_429`` as the sandbox saw them;
* ``sequential_wall_s``: the same case with ``max_parallel_requests: 1`` (the tap's reference).

The client's limiter enforces ``requests_per_minute`` as a rate over one-second windows, so
the bound is reached in seconds; the sandbox enforces Ordoro's 500 a minute (over six-second
windows), so a burst of ours would show as a 429.

``cpu`` compares the tap's CPU per record with a minimal loop that fetches the same pages with
``requests`` and prints each order as a Singer RECORD with ``json.dumps`` (no latency, no limit).
``memory`` runs the orders case at two sizes: peak RSS should not grow with the data.

``latency-*`` (the cases of the throughput issue) run a plugin's command as a new user runs it,
in a process of its own from start to exit, with default settings except
``requests_per_minute: 600``, output to a file, against an in-process sandbox that allows 600
requests a minute (60 over any six seconds, so a burst shows as a 429) and answers each
request after the given latency. Each prints ``ratio`` = wall time / (requests needed / 10 a
second), the requests in flight at the sandbox over time (``in_flight_peak`` and
``in_flight_median``, sampled every 50 ms), the 429s, and the process's CPU seconds.
``cpu-loop`` runs the tap (``orders`` selected, 20,000 orders, no latency, output to a file) and
two reference loops, each a whole process, ``--repeat`` times: the issue's minimal loop (offset
paging by ``order_number``) and the heavier keyset loop the README used to compare with.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

USER, SECRET = "bench-user", "bench-secret"
#: Ordoro answers 429 above this many requests a minute; the sandbox enforces it.
ORDORO_LIMIT_PER_MINUTE = 500
DEFAULT_RPM = 480


@contextmanager
def sandbox_process(*options: str) -> Iterator[str]:
    """Run ``ordoro-sandbox`` in a process of its own on a free port; yield its URL."""
    command = [sys.executable, "-m", "ordoro_sandbox", "--port", "0"]
    command += ["--username", USER, "--password", SECRET, *options]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stderr.readline() if process.stderr else ""
        match = re.search(r"http://127\.0\.0\.1:\d+", banner)
        if not match:
            raise RuntimeError(f"the sandbox did not start: {banner!r}")
        yield match.group(0)
    finally:
        process.terminate()
        process.wait(timeout=60)


def sandbox_options(case: dict[str, Any]) -> list[str]:
    options = ["--seed", "1", "--orders", str(case.get("orders", 0))]
    # Orders need products to sell: at least 50.
    options += ["--products", str(max(50, case.get("products", 0)))]
    options += ["--purchase-orders", str(case.get("purchase_orders", 0))]
    options += ["--return-orders", str(case.get("return_orders", 0))]
    options += ["--latency-ms", str(case.get("latency_ms", 0))]
    if case.get("limited", True):
        per_window = ORDORO_LIMIT_PER_MINUTE // 10  # Ordoro's limit over 6-second windows
        options += ["--rate-limit", str(per_window), "--rate-window", "6"]
    return options


def bench_config(url: str, case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A plugin config for the sandbox at ``url``, and the client options of the case: the
    limiter holds ``requests_per_minute`` as a rate over one-second windows (no limit when the
    case is unlimited)."""
    rpm = case.get("rpm", DEFAULT_RPM)
    limited = case.get("limited", True)
    config = {
        "username": USER,
        "password": SECRET,
        "api_url": url,
        "requests_per_minute": max(1, round(rpm / 60)) if limited else 1_000_000,
    }
    return config, {"rate_window_seconds": 1.0} if limited else {}


class RecordCounter(io.TextIOBase):
    """A stdout that counts RECORD messages and keeps nothing, so memory is the tap's own."""

    def __init__(self) -> None:
        self.records = 0

    def write(self, text: str) -> int:
        self.records += text.count('{"type":"RECORD"') + text.count('{"type": "RECORD"')
        return len(text)


def counting(client: Any) -> dict[str, int]:
    """Count the requests the client sends and the 429s it gets, through a response hook."""
    counts = {"requests": 0, "429": 0, "writes": 0}

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        counts["requests"] += 1
        counts["429"] += response.status_code == 429
        counts["writes"] += response.request.method in ("POST", "PUT", "DELETE")

    client.session.hooks["response"].append(hook)
    return counts


def run_tap_case(case: dict[str, Any], parallel: int | None) -> dict[str, Any]:
    """Run the tap over the case's streams once; in this process."""
    from tap_ordoro.tap import TapOrdoro

    rpm = case.get("rpm", DEFAULT_RPM)
    with sandbox_process(*sandbox_options(case)) as url:
        config, options = bench_config(url, case)
        if parallel is not None:
            config["max_parallel_requests"] = parallel
        catalog = TapOrdoro(config=config, parse_env_config=False).catalog_dict
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if not metadata["breadcrumb"]:
                    metadata["metadata"]["selected"] = entry["tap_stream_id"] in case["streams"]
        tap = TapOrdoro(
            config=config, catalog=catalog, parse_env_config=False, client_options=options
        )
        counts = counting(tap.client)
        sink = RecordCounter()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        with redirect_stdout(sink):
            tap.sync_all()
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    pages = ideal_pages(case)
    bound = pages / (rpm / 60) if case.get("limited", True) else None
    return {
        "case": case["name"],
        "latency_ms": case.get("latency_ms", 0),
        "parallel": parallel,
        "records": sink.records,
        "requests": counts["requests"],
        "responses_429": counts["429"],
        "pages": pages,
        "wall_s": round(wall, 2),
        "bound_s": round(bound, 2) if bound else None,
        "ratio": round(wall / bound, 3) if bound else None,
        "records_per_s": round(sink.records / wall, 1),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_record": round(cpu * 1000 / max(1, sink.records), 3),
        "peak_rss_mib": round(after.ru_maxrss / 1024, 1),
    }


def ideal_pages(case: dict[str, Any]) -> int:
    """Pages the case's data needs at 100 a page, each list read once."""
    streams = set(case["streams"])
    pages = 0
    if streams & {"orders", "shipments"}:
        pages += max(1, math.ceil(case.get("orders", 0) / 100))
    if streams & {"products", "inventory"}:
        pages += max(1, math.ceil(case.get("products", 0) / 100))
    for stream, size in (
        ("purchase_orders", case.get("purchase_orders", 0)),
        ("return_orders", case.get("return_orders", 0)),
    ):
        if stream in streams:
            pages += max(1, math.ceil(size / 100))
    pages += len(streams & {"warehouses", "sales_channels", "suppliers"})
    return pages


def run_minimal_loop(case: dict[str, Any]) -> dict[str, Any]:
    """The CPU reference: fetch the same order pages with requests, print RECORDs."""
    import requests

    from ordoro_core.timestamps import RESOLUTION, parse_instant, to_utc_iso

    with sandbox_process(*sandbox_options({**case, "limited": False})) as url:
        session = requests.Session()
        session.auth = (USER, SECRET)
        sink = RecordCounter()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        query: dict[str, Any] = {"sort": "updated_date", "limit": 100, "offset": 0}
        with redirect_stdout(sink):
            while True:
                page = session.get(url + "/v3/order", params=query, timeout=60).json()["order"]
                for order in page:
                    print(json.dumps({"type": "RECORD", "stream": "orders", "record": order}))
                if len(page) < 100:
                    break
                last = parse_instant(page[-1]["updated_date"])
                query["updated_after"] = to_utc_iso(last - RESOLUTION)
                query["offset"] = sum(
                    1 for order in page if parse_instant(order["updated_date"]) == last
                )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return {
        "case": case["name"] + " (minimal loop)",
        "records": sink.records,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_record": round(cpu * 1000 / max(1, sink.records), 3),
        "peak_rss_mib": round(after.ru_maxrss / 1024, 1),
    }


def run_target_case(case: dict[str, Any]) -> dict[str, Any]:
    """An on-hand feed: ``rows`` rows over ``products`` products, ``changed`` differing."""
    from ordoro_core.client import OrdoroClient
    from target_ordoro.target import TargetOrdoro

    rpm = case.get("rpm", DEFAULT_RPM)
    with sandbox_process(*sandbox_options(case)) as url, TemporaryDirectory() as scratch:
        reader = OrdoroClient(USER, SECRET, url, 1_000_000)
        products: list[dict[str, Any]] = []
        while True:
            page = reader.get("/product/", {"limit": 100, "offset": len(products)})["product"]
            products.extend(page)
            if len(page) < 100:
                break
        current = {(p["sku"], e["id"]): e["on_hand"] for p in products for e in p["warehouses"]}
        keys = sorted(current)[: case["rows"]]
        lines = [
            json.dumps(
                {
                    "type": "SCHEMA",
                    "stream": "inventory",
                    "schema": {"properties": {}},
                    "key_properties": ["sku", "warehouse_id"],
                }
            )
        ]
        for index, (sku, warehouse_id) in enumerate(keys):
            on_hand = current[(sku, warehouse_id)] + (7 if index < case["changed"] else 0)
            record = {"sku": sku, "warehouse_id": warehouse_id, "on_hand": on_hand}
            lines.append(json.dumps({"type": "RECORD", "stream": "inventory", "record": record}))
        config, options = bench_config(url, case)
        config["dead_letter_path"] = str(Path(scratch) / "dead.jsonl")
        config["order_map_path"] = str(Path(scratch) / "order-map.jsonl")
        target = TargetOrdoro(config=config, parse_env_config=False, client_options=options)
        counts = counting(target.run.client)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            target.listen(file_input=io.StringIO("\n".join(lines) + "\n"))
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    bound = counts["requests"] / (rpm / 60)
    return {
        "case": case["name"],
        "latency_ms": case.get("latency_ms", 0),
        "rows": len(keys),
        "changed": case["changed"],
        "requests": counts["requests"],
        "writes": counts["writes"],
        "requests_per_row": round(counts["requests"] / max(1, len(keys)), 3),
        "responses_429": counts["429"],
        "wall_s": round(wall, 2),
        "bound_s": round(bound, 2),
        "ratio": round(wall / bound, 3) if bound else None,
        "records_per_s": round(len(keys) / wall, 1),
        "cpu_s": round(cpu, 2),
        "peak_rss_mib": round(after.ru_maxrss / 1024, 1),
    }


# -- The throughput issue's cases: a plugin's command as a new user runs it ----------------

#: The issue's pace: the server's limit, held as an even pace of one request per 100 ms.
ISSUE_RPM = 600

#: The issue's minimal loop, verbatim: the CPU reference for the tap.
MINIMAL_LOOP = """\
import json, sys, requests
url, user, pw = sys.argv[1:4]
s = requests.Session(); s.auth = (user, pw)
off = 0
while True:
    page = s.get(url + "/v3/order", params={"limit": 100, "offset": off, "sort": "order_number"}).json()["order"]
    for r in page:
        sys.stdout.write(json.dumps({"type": "RECORD", "stream": "orders", "record": r}) + "\\n")
    if len(page) < 100:
        break
    off += 100
"""  # noqa: E501

#: The heavier loop the README compared with before: keyset paging on updated_date, each
#: instant parsed, one print per record.
HEAVIER_LOOP = """\
import json, sys, requests
from ordoro_core.timestamps import RESOLUTION, parse_instant, to_utc_iso
url, user, pw = sys.argv[1:4]
session = requests.Session(); session.auth = (user, pw)
query = {"sort": "updated_date", "limit": 100, "offset": 0}
while True:
    page = session.get(url + "/v3/order", params=query, timeout=60).json()["order"]
    for order in page:
        print(json.dumps({"type": "RECORD", "stream": "orders", "record": order}))
    if len(page) < 100:
        break
    last = parse_instant(page[-1]["updated_date"])
    query["updated_after"] = to_utc_iso(last - RESOLUTION)
    query["offset"] = sum(1 for order in page if parse_instant(order["updated_date"]) == last)
"""


def command(name: str) -> list[str]:
    """A console script of this environment (``tap-ordoro``, ``target-ordoro``)."""
    return [str(Path(sys.executable).parent / name)]


def timed_process(
    argv: list[str], *, stdin: Path | None = None, stdout: Path, stderr: Path
) -> dict[str, float]:
    """Run a command to its exit: wall seconds and the process's CPU (user + system)."""
    with (
        open(stdin or os.devnull, "rb") as source,
        open(stdout, "wb") as out,
        open(stderr, "wb") as err,
    ):
        started, started_at = time.perf_counter(), time.time()
        process = subprocess.Popen(argv, stdin=source, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall, ended_at = time.perf_counter() - started, time.time()
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {process.returncode}: {stderr.read_text()[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss": usage.ru_maxrss,
        "started_at": started_at,
        "ended_at": ended_at,
    }


def issue_sandbox(case: dict[str, Any]) -> Any:
    """The in-process sandbox of an issue case (its request log gives the requests in flight)."""
    from ordoro_sandbox import Sandbox, SandboxOptions

    limited = case.get("limited", True)
    return Sandbox(
        SandboxOptions(
            seed=1,
            username=USER,
            password=SECRET,
            orders=case.get("orders", 0),
            products=max(50, case.get("products", 0)),
            purchase_orders=case.get("purchase_orders", 0),
            return_orders=case.get("return_orders", 0),
            latency_ms=case.get("latency_ms", 0),
            rate_limit_per_minute=ISSUE_RPM // 10 if limited else None,
            rate_limit_window_seconds=6.0,
        )
    )


def in_flight(records: list[Any]) -> dict[str, Any]:
    """Peak and median of the requests in flight at the sandbox (ordoro_sandbox.inflight)."""
    from ordoro_sandbox.inflight import InFlight

    profile = InFlight.of(records)
    return {"in_flight_peak": profile.peak, "in_flight_median": profile.median}


def pace_use(records: list[Any]) -> dict[str, Any]:
    """How the pace was used between the first and the last request: the mean spacing of
    arrivals at the sandbox, and the time lost to gaps (spacing above the pace's 100 ms) in
    the first and last fifths and in between (gaps of a pace that waited for answers)."""
    arrivals = sorted(r.at for r in records)
    if len(arrivals) < 2:
        return {}
    spacing = 1 / (ISSUE_RPM / 60)
    gaps = [(b, b - a) for a, b in itertools.pairwise(arrivals)]
    start, span = arrivals[0], arrivals[-1] - arrivals[0]

    def lost(low: float, high: float) -> float:
        return sum(max(0.0, gap - spacing) for at, gap in gaps if low <= (at - start) / span < high)

    return {
        "spacing_ms": round(1000 * span / (len(arrivals) - 1), 1),
        "gaps_lost_s": [
            round(lost(low, high), 2) for low, high in ((0, 0.2), (0.2, 0.8), (0.8, 1.01))
        ],
    }


def issue_config(url: str, scratch: Path, **extra: Any) -> Path:
    """A config file as a new user writes it: credentials, api_url, requests_per_minute."""
    config = {
        "username": USER,
        "password": SECRET,
        "api_url": url,
        "requests_per_minute": ISSUE_RPM,
        **extra,
    }
    path = scratch / "config.json"
    path.write_text(json.dumps(config))
    return path


def run_issue_tap_case(case: dict[str, Any]) -> dict[str, Any]:
    """The tap's command over the case's streams, discovery first (not timed)."""
    with issue_sandbox(case) as sandbox, TemporaryDirectory() as folder:
        scratch = Path(folder)
        config = issue_config(sandbox.url, scratch)
        catalog_path = scratch / "catalog.json"
        subprocess.run(
            [*command("tap-ordoro"), "--config", str(config), "--discover"],
            stdout=catalog_path.open("w"),
            check=True,
        )
        catalog = json.loads(catalog_path.read_text())
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if not metadata["breadcrumb"]:
                    metadata["metadata"]["selected"] = entry["tap_stream_id"] in case["streams"]
        catalog_path.write_text(json.dumps(catalog))
        sandbox.reset_request_log()
        output = scratch / "out.singer"
        run = timed_process(
            [*command("tap-ordoro"), "--config", str(config), "--catalog", str(catalog_path)],
            stdout=output,
            stderr=scratch / "tap.log",
        )
        records = sandbox.requests
        emitted = sum(1 for line in output.open("rb") if line.startswith(b'{"type":"RECORD"'))
        limit_log = client_in_flight_line(scratch / "tap.log")
        if os.environ.get("BENCH_TIMELINE"):  # every request, for a closer look
            with open(os.environ["BENCH_TIMELINE"], "w") as timeline:
                for r in records:
                    line = {"at": r.at - run["started_at"], "answered": r.answered, "path": r.path}
                    line["answered"] = r.answered and r.answered - run["started_at"]
                    timeline.write(json.dumps({**line, "query": r.query, "status": r.status}))
                    timeline.write("\n")
    needed = ideal_pages(case)
    return {**issue_result(case, run, records, needed, emitted=emitted), "client": limit_log}


def run_issue_target_case(case: dict[str, Any]) -> dict[str, Any]:
    """The target's command over an on-hand feed: every row of ``products`` products changed."""
    import requests

    with issue_sandbox(case) as sandbox, TemporaryDirectory() as folder:
        scratch = Path(folder)
        session = requests.Session()
        session.auth = (USER, SECRET)
        products: list[dict[str, Any]] = []
        while True:
            page = session.get(
                sandbox.url + "/product/", params={"limit": 100, "offset": len(products)}
            ).json()["product"]
            products.extend(page)
            if len(page) < 100:
                break
        rows = [
            {"sku": p["sku"], "warehouse_id": e["id"], "on_hand": e["on_hand"] + 7}
            for p in products
            for e in p["warehouses"]
        ][: case["rows"]]
        feed = scratch / "feed.singer"
        schema = {
            "type": "SCHEMA",
            "stream": "inventory",
            "schema": {"properties": {}},
            "key_properties": ["sku", "warehouse_id"],
        }
        lines = [json.dumps(schema)]
        lines += [json.dumps({"type": "RECORD", "stream": "inventory", "record": r}) for r in rows]
        feed.write_text("\n".join(lines) + "\n")
        config = issue_config(
            sandbox.url,
            scratch,
            dead_letter_path=str(scratch / "dead.jsonl"),
            order_map_path=str(scratch / "order-map.jsonl"),
        )
        time.sleep(6.5)  # the reads above leave the sandbox's six-second window
        sandbox.reset_request_log()
        run = timed_process(
            [*command("target-ordoro"), "--config", str(config)],
            stdin=feed,
            stdout=scratch / "state.singer",
            stderr=scratch / "target.log",
        )
        records = sandbox.requests
        limit_log = client_in_flight_line(scratch / "target.log")
        dead = scratch / "dead.jsonl"
        dead_letters = len(dead.read_text().splitlines()) if dead.exists() else 0
    needed = math.ceil(len(products) / 100) + len(rows)
    result = issue_result(case, run, records, needed, emitted=len(rows))
    result["writes"] = sum(1 for r in records if r.method in ("POST", "PUT"))
    result["dead_letters"] = dead_letters
    result["client"] = limit_log
    return result


def client_in_flight_line(log: Path) -> str | None:
    """What the plugin logged about its requests in flight (None: the code does not log it)."""
    found = re.findall(r"requests in flight: [^\n\"]*", log.read_text(errors="replace"))
    return found[-1] if found else None


def issue_result(
    case: dict[str, Any], run: dict[str, float], records: list[Any], needed: int, *, emitted: int
) -> dict[str, Any]:
    bound = needed / (ISSUE_RPM / 60)
    return {
        "case": case["name"],
        "latency_ms": case.get("latency_ms", 0),
        "records": emitted,
        "requests": len(records),
        "requests_needed": needed,
        "responses_429": sum(1 for r in records if r.status == 429),
        "wall_s": round(run["wall_s"], 2),
        "bound_s": round(bound, 2),
        "ratio": round(run["wall_s"] / bound, 3),
        **in_flight(records),
        **pace_use(records),
        # The fixed costs: process start to the first request, the last answer to exit.
        "first_request_s": round(min(r.at for r in records) - run["started_at"], 2),
        "last_answer_to_exit_s": round(
            run["ended_at"] - max(r.answered or r.at for r in records), 2
        ),
        "cpu_s": round(run["cpu_s"], 2),
        "peak_rss_mib": round(run["rss"] / 1024, 1),
    }


def run_cpu_loops(case: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Whole-process CPU of the tap and of the two loops, ``repeat`` runs each, interleaved."""
    with issue_sandbox({**case, "limited": False}) as sandbox, TemporaryDirectory() as folder:
        scratch = Path(folder)
        config = issue_config(sandbox.url, scratch)
        configured = json.loads(config.read_text())
        configured["requests_per_minute"] = case["rpm"]
        config.write_text(json.dumps(configured))
        catalog_path = scratch / "catalog.json"
        subprocess.run(
            [*command("tap-ordoro"), "--config", str(config), "--discover"],
            stdout=catalog_path.open("w"),
            check=True,
        )
        catalog = json.loads(catalog_path.read_text())
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if not metadata["breadcrumb"]:
                    metadata["metadata"]["selected"] = entry["tap_stream_id"] == "orders"
        catalog_path.write_text(json.dumps(catalog))
        (scratch / "minimal.py").write_text(MINIMAL_LOOP)
        (scratch / "heavier.py").write_text(HEAVIER_LOOP)
        programs = {
            "tap": [
                *command("tap-ordoro"),
                "--config",
                str(config),
                "--catalog",
                str(catalog_path),
            ],
            "minimal_loop": [
                sys.executable,
                str(scratch / "minimal.py"),
                sandbox.url,
                USER,
                SECRET,
            ],
            "heavier_loop": [
                sys.executable,
                str(scratch / "heavier.py"),
                sandbox.url,
                USER,
                SECRET,
            ],
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in programs}
        for _ in range(repeat):
            for name, argv in programs.items():
                output = scratch / f"{name}.out"
                runs[name].append(timed_process(argv, stdout=output, stderr=scratch / "err.log"))
                records = sum(1 for line in output.open("rb") if b'"RECORD"' in line[:40])
                if records != case["orders"]:
                    raise RuntimeError(f"{name} wrote {records} records, not {case['orders']}")
    result: dict[str, Any] = {"case": case["name"], "orders": case["orders"], "runs": repeat}
    for name, measured in runs.items():
        cpu = sorted(run["cpu_s"] for run in measured)
        result[f"{name}_cpu_s"] = [round(value, 2) for value in cpu]
        result[f"{name}_cpu_median_s"] = round(statistics.median(cpu), 2)
        result[f"{name}_wall_median_s"] = round(statistics.median(r["wall_s"] for r in measured), 2)
    tap = result["tap_cpu_median_s"]
    result["tap_over_minimal_loop"] = round(tap / result["minimal_loop_cpu_median_s"], 2)
    result["tap_over_heavier_loop"] = round(tap / result["heavier_loop_cpu_median_s"], 2)
    return result


def issue_cases(quick: bool) -> list[dict[str, Any]]:
    """The four cases of the throughput issue's table, and the CPU comparison."""
    scale = 0.1 if quick else 1.0
    all_streams = [
        "orders",
        "shipments",
        "products",
        "inventory",
        "warehouses",
        "sales_channels",
        "suppliers",
        "purchase_orders",
        "return_orders",
    ]
    found: list[dict[str, Any]] = []
    for latency in (1000, 2000):
        found.append(
            {
                "name": f"latency-all-streams-{latency}ms",
                "kind": "issue-tap",
                "streams": all_streams,
                "orders": int(12_000 * scale),
                "products": int(3_000 * scale),
                "purchase_orders": 200,
                "return_orders": 150,
                "latency_ms": latency,
            }
        )
    found.append(
        {
            "name": "latency-orders-500ms",
            "kind": "issue-tap",
            "streams": ["orders"],
            "orders": int(12_000 * scale),
            "latency_ms": 500,
        }
    )
    found.append(
        {
            "name": "latency-target-1500ms",
            "kind": "issue-target",
            "products": int(600 * scale),
            "rows": int(1_200 * scale),
            "latency_ms": 1500,
        }
    )
    for rpm in (1_000_000, ISSUE_RPM):
        found.append(
            {
                "name": f"cpu-loop-{'unpaced' if rpm > ISSUE_RPM else rpm}",
                "kind": "cpu-loop",
                "orders": int(20_000 * scale),
                "rpm": rpm,
            }
        )
    return found


def cases(quick: bool) -> list[dict[str, Any]]:
    scale = 0.1 if quick else 1.0
    orders, products = int(12_000 * scale), int(6_000 * scale)
    found: list[dict[str, Any]] = []
    for latency in (500, 150):
        found.append(
            {
                "name": f"tap-orders-{latency}ms",
                "kind": "tap",
                "streams": ["orders", "shipments"],
                "orders": orders,
                "latency_ms": latency,
            }
        )
        found.append(
            {
                "name": f"tap-products-inventory-{latency}ms",
                "kind": "tap",
                "streams": ["products", "inventory"],
                "products": products,
                "latency_ms": latency,
            }
        )
        found.append(
            {
                "name": f"tap-all-streams-{latency}ms",
                "kind": "tap",
                "streams": [
                    "orders",
                    "shipments",
                    "products",
                    "inventory",
                    "warehouses",
                    "sales_channels",
                    "suppliers",
                    "purchase_orders",
                    "return_orders",
                ],
                "orders": orders // 2,
                "products": products // 2,
                "purchase_orders": 200,
                "return_orders": 150,
                "latency_ms": latency,
            }
        )
    found.append(
        {
            "name": "cpu-orders",
            "kind": "cpu",
            "streams": ["orders"],
            "orders": int(20_000 * scale),
            "limited": False,
        }
    )
    for size in (int(4_000 * scale), int(40_000 * scale)):
        found.append(
            {
                "name": f"memory-orders-{size}",
                "kind": "memory",
                "streams": ["orders", "shipments"],
                "orders": size,
                "limited": False,
            }
        )
    for latency in (150, 500):
        found.append(
            {
                "name": f"target-feed-{latency}ms",
                "kind": "target",
                "products": 500 if not quick else 100,
                "rows": 1000 if not quick else 200,
                "changed": 50 if not quick else 10,
                "latency_ms": latency,
            }
        )
    found.append(
        {
            "name": "target-feed-mostly-changed-500ms",
            "kind": "target",
            "products": 500 if not quick else 100,
            "rows": 1000 if not quick else 200,
            "changed": 600 if not quick else 120,
            "latency_ms": 500,
        }
    )
    return found


def run_case(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Every measurement of one case, each in a process of its own."""
    runs = []
    if case["kind"] == "tap":
        runs.append({"case": case, "mode": "tap", "parallel": None})
        runs.append({"case": case, "mode": "tap", "parallel": 1})
    elif case["kind"] == "cpu":
        runs.append({"case": case, "mode": "tap", "parallel": 1})
        runs.append({"case": case, "mode": "minimal"})
    elif case["kind"] == "memory":
        runs.append({"case": case, "mode": "tap", "parallel": None})
    elif case["kind"] in ("issue-tap", "issue-target", "cpu-loop"):
        runs.append({"case": case, "mode": case["kind"], "repeat": case.get("repeat", 1)})
    else:
        runs.append({"case": case, "mode": "target"})
    results = []
    for run in runs:
        output = subprocess.run(
            [sys.executable, __file__, "--run", json.dumps(run)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    return results


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    case = spec["case"]
    if spec["mode"] == "tap":
        return run_tap_case(case, spec["parallel"])
    if spec["mode"] == "minimal":
        return run_minimal_loop(case)
    if spec["mode"] == "issue-tap":
        return run_issue_tap_case(case)
    if spec["mode"] == "issue-target":
        return run_issue_target_case(case)
    if spec["mode"] == "cpu-loop":
        return run_cpu_loops(case, spec["repeat"])
    return run_target_case(case)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--only", help="run the cases whose name starts with this")
    parser.add_argument("--latency-ms", type=int, help="only cases with this latency")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of each program in the cpu-loop cases"
    )
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(json.loads(args.run))))
        return 0

    selected = [
        {**case, "repeat": args.repeat}
        for case in issue_cases(args.quick) + cases(args.quick)
        if (args.only is None or case["name"].startswith(args.only))
        and (args.latency_ms is None or case.get("latency_ms") == args.latency_ms)
    ]
    for case in selected:
        results = run_case(case)
        for result in results:
            print(json.dumps(result), flush=True)
        main_result = results[0]
        if case["kind"] in ("issue-tap", "issue-target"):
            print(
                f"# {case['name']}: ratio {main_result['ratio']} ({main_result['wall_s']} s for "
                f"{main_result['requests_needed']} requests needed, {main_result['requests']} "
                f"sent), in flight peak {main_result['in_flight_peak']} median "
                f"{main_result['in_flight_median']}, 429s {main_result['responses_429']}, "
                f"CPU {main_result['cpu_s']} s",
                file=sys.stderr,
                flush=True,
            )
        if case["kind"] == "tap":
            reference = results[1]
            print(
                f"# {case['name']}: {main_result['records']} records, {main_result['requests']} "
                f"requests in {main_result['wall_s']} s (bound {main_result['bound_s']} s, ratio "
                f"{main_result['ratio']}); sequential {reference['wall_s']} s "
                f"(ratio {reference['ratio']}); {main_result['records_per_s']} records/s, "
                f"CPU {main_result['cpu_s']} s, peak RSS {main_result['peak_rss_mib']} MiB, "
                f"429s {main_result['responses_429']}",
                file=sys.stderr,
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
