#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""The layer diagram of docs/ARCHITECTURE.md, drawn from the build itself.

usage: layer-graph.py SOURCE_DIR            print the diagram (Mermaid)
       layer-graph.py SOURCE_DIR --check    exit 1 when docs/ARCHITECTURE.md differs

It configures SOURCE_DIR in a scratch directory with `cmake --graphviz`, keeps
the layers (bd_*), the three programs and the outside libraries they link
directly, and writes the edges in a fixed order, so the picture cannot drift
from what CMake links.
"""
import os
import re
import subprocess
import sys
import tempfile

PROGRAMS = {"bestanden-milter": "bestanden-milter", "bestanden-gateway": "bestanden-gateway",
            "bestanden-cli": "bestanden (CLI)"}
BEGIN, END = "<!-- layer-graph: begin -->", "<!-- layer-graph: end -->"


def edges(src):
    with tempfile.TemporaryDirectory() as tmp:
        dot = os.path.join(tmp, "deps.dot")
        subprocess.run(["cmake", "-S", src, "-B", os.path.join(tmp, "b"), "-DBD_TESTS=OFF",
                        "--graphviz=" + dot], check=True, stdout=subprocess.DEVNULL)
        text = open(dot).read()
    out = set()
    for a, b in re.findall(r'^\s*"node\d+" -> "node\d+".*// (\S+) -> (\S+)$', text, re.M):
        if not (a.startswith("bd_") or a in PROGRAMS):
            continue
        if b.startswith("bd_") or b.startswith("PkgConfig::"):
            out.add((a, b))
    return sorted(out)


def name(t):
    if t.startswith("PkgConfig::"):
        return t.split("::")[1].lower()
    return PROGRAMS.get(t, t[3:] if t.startswith("bd_") else t)


def diagram(src):
    lines = ["```mermaid", "graph TD"]
    nodes = {}
    for a, b in edges(src):
        for t in (a, b):
            if t not in nodes:
                nodes[t] = re.sub(r"\W", "_", t)
                shape = '[("%s")]' if t.startswith("PkgConfig::") else '["%s"]'
                lines.append("  %s%s" % (nodes[t], shape % name(t)))
        lines.append("  %s --> %s" % (nodes[a], nodes[b]))
    lines.append("```")
    return "\n".join(lines) + "\n"


def main():
    src = os.path.abspath(sys.argv[1])
    got = diagram(src)
    if "--check" not in sys.argv:
        sys.stdout.write(got)
        return 0
    doc = open(os.path.join(src, "docs", "ARCHITECTURE.md")).read()
    m = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), doc, re.S)
    if m is None:
        print("docs/ARCHITECTURE.md has no %s ... %s block" % (BEGIN, END))
        return 1
    if m.group(1) != got:
        print("docs/ARCHITECTURE.md's layer diagram is not what the build links; "
              "run scripts/layer-graph.py . and paste its output:\n" + got)
        return 1
    print("docs/ARCHITECTURE.md's layer diagram matches the build (%d edges)" % got.count("-->"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
