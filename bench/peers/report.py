"""Prints the peer benchmark's table from the JSON lines of every side: items per second
and client CPU per item, for each operation and library, with dynorm's CPU per item
against the best peer's."""

import json
import os
import platform
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
libs = ["dynorm", "pynamodb", "boto3", "electrodb"]
names = {"dynorm": "dynorm", "pynamodb": "PynamoDB", "boto3": "boto3", "electrodb": "ElectroDB"}
ops = []
for r in rows:
    if r["op"] not in ops:
        ops.append(r["op"])
by = {(r["lib"], r["op"]): r for r in rows}

cpus = os.cpu_count()
print(f"Machine: {platform.machine()}, {cpus} cores, {platform.system()} {platform.release()}; DynamoDB Local 3.3.0 on the same machine.")
print()
head = "| operation | " + " | ".join(f"{names[l]} items/s | {names[l]} CPU µs/item" for l in libs) + " | dynorm CPU vs best peer |"
print(head)
print("|---|" + "---:|" * (2 * len(libs) + 1))
for op in ops:
    cells = []
    cpu = {}
    for lib in libs:
        r = by.get((lib, op))
        if r is None:
            cells += ["—", "—"]
            continue
        rate = r["items"] / r["wall"] if r["wall"] > 0 else 0.0
        per = r["cpu"] / r["items"] * 1e6
        cpu[lib] = per
        cells += [f"{rate:,.0f}", f"{per:,.1f}"]
    peers = [v for k, v in cpu.items() if k != "dynorm"]
    ratio = f"{cpu['dynorm'] / min(peers):.2f}" if "dynorm" in cpu and peers else "—"
    print(f"| {op} | " + " | ".join(cells) + f" | {ratio} |")
