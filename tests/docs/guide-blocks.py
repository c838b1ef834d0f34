# SPDX-License-Identifier: EUPL-1.2
"""guide-blocks.py - the shell blocks of a Markdown guide, as one bash script.

usage: guide-blocks.py GUIDE.md > guide.sh

Every fenced block labelled `sh` becomes part of the script, in order, announced
with its line number. A block preceded by `<!-- not run: REASON -->` is reported
as "not run: REASON" instead; one preceded by `<!-- needs: COMMAND -->` runs only
when COMMAND is installed, and is reported as not run otherwise. A fenced block
with no label is an error: every block must say whether it is shell.
"""
import re
import shlex
import sys


def blocks(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    marker, i = None, 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^\s*<!--\s*(not run|needs):\s*(.*?)\s*-->\s*$", line)
        if m:
            marker = (m.group(1), m.group(2))
            i += 1
            continue
        fence = re.match(r"^(\s*)```(\S*)\s*$", line)
        if fence:
            indent, label, start = fence.group(1), fence.group(2), i + 1
            body = []
            i += 1
            while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            if not label:
                sys.exit("%s:%d: a fenced block without a label (sh, ini, text ...)" % (path, start))
            yield start, label, body, marker
            marker = None
        elif line.strip():
            marker = None
        i += 1


def main():
    path = sys.argv[1]
    out = ["# generated from %s by guide-blocks.py" % path, "set -e"]
    count = 0
    for start, label, body, marker in blocks(path):
        if label != "sh":
            continue
        count += 1
        where = "%s:%d" % (path.rsplit("/", 1)[-1], start)
        if marker and marker[0] == "not run":
            out.append("echo %s" % shlex.quote("--- %s not run: %s" % (where, marker[1])))
            continue
        if marker and marker[0] == "needs":
            out.append("if ! command -v %s >/dev/null; then echo %s; else" % (
                shlex.quote(marker[1]),
                shlex.quote("--- %s not run: %s is not installed" % (where, marker[1]))))
        out.append("echo %s" % shlex.quote("--- %s" % where))
        out.extend(body)
        if marker and marker[0] == "needs":
            out.append("fi")
    if count == 0:
        sys.exit("%s: no sh blocks" % path)
    print("\n".join(out))


main()
