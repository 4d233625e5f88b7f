#!/usr/bin/env python3
"""check-cycles.py: no dependency cycle longer than two files in handlers/.

Builds the include/call graph of handlers/ (every file under it, sub-areas
included) and fails on any cycle through more than two files: two files
that share one job may reference each other, nothing longer. Edges:
  include  A includes B (a quoted #include that resolves inside handlers/);
  call     A's object file references a symbol that B's object defines
           (read with nm from the build tree, so it sees what the linker
           sees: calls and global variables, not function pointers handed
           over at run time, which is how listeners stay out of the graph).

A strongly connected component (SCC) holds a cycle longer than two exactly
when one of its edges goes one way only (that edge and the shortest way
back make one) or when its two-way pairs close a ring; what passes is a
tree of two-way pairs.

usage: check-cycles.py SOURCE_DIR BUILD_DIR [--report]
  --report  prints the size of every SCC of more than one file."""
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def handler_sources(root):
    """Every .c/.h under root/handlers, as paths relative to root."""
    out = []
    for d, _, files in os.walk(os.path.join(root, "handlers")):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def include_edges(root, files):
    known = set(files)
    edges = {f: set() for f in files}
    for f in files:
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            for base in (os.path.dirname(f), "handlers"):
                cand = os.path.normpath(os.path.join(base, inc))
                if cand in known:
                    if cand != f:
                        edges[f].add(cand)
                    break
    return edges


def object_files(root, build):
    """Object file of each handlers/ source: CMake mirrors the source path
    under <target>.dir/; an object built into two targets counts once."""
    objs = {}
    top = os.path.join(build, "handlers", "CMakeFiles")
    for d, _, files in os.walk(top):
        for f in files:
            if not f.endswith(".o"):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, top).split(os.sep, 1)
            if len(rel) != 2 or not rel[0].endswith(".dir"):
                continue
            src = os.path.normpath(os.path.join("handlers", rel[1][:-2]))
            if os.path.isfile(os.path.join(root, src)):
                objs.setdefault(src, path)
    return objs


def symbols(obj):
    """(defined, undefined) external symbols of one object file."""
    res = subprocess.run(["nm", "-P", obj], check=True, capture_output=True,
                         text=True)
    defined, undefined = set(), set()
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind in "TDBRCGSVW" and kind.isupper():
            defined.add(name)
    return defined, undefined


def call_edges(objs):
    syms = {src: symbols(obj) for src, obj in objs.items()}
    owner = {}
    for src, (defined, _) in syms.items():
        for s in defined:
            owner.setdefault(s, src)
    edges, why = {}, {}
    for src, (_, undefined) in syms.items():
        edges[src] = set()
        for s in sorted(undefined):
            if s in owner and owner[s] != src:
                edges[src].add(owner[s])
                why.setdefault((src, owner[s]), []).append(s)
    return edges, why


def components(nodes, edges):
    """Tarjan's strongly connected components (iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def has_long_cycle(comp, edges):
    members = set(comp)
    pairs = set()
    for f in comp:
        for g in edges.get(f, set()) & members:
            if f not in edges.get(g, set()):
                return True
            pairs.add(frozenset((f, g)))
    return len(pairs) != len(comp) - 1     # connected: a tree has n-1


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    root, build = argv[1], argv[2]
    report = "--report" in argv[3:]
    files = handler_sources(root)
    objs = object_files(root, build)
    if not objs:
        print("no object files for handlers/ under %s (build first)" % build,
              file=sys.stderr)
        return 2
    edges = include_edges(root, files)
    calls, why = call_edges(objs)
    for src, dst in calls.items():
        edges.setdefault(src, set()).update(dst)
    comps = [c for c in components(files, edges) if len(c) > 1]
    comps.sort(key=len, reverse=True)
    largest = len(comps[0]) if comps else 1
    if report:
        print("files: %d, objects: %d, largest component: %d files"
              % (len(files), len(objs), largest))
        for c in comps:
            print("  %d: %s" % (len(c), " ".join(c)))
    bad = [c for c in comps if has_long_cycle(c, edges)]
    if bad:
        print("dependency cycles longer than two files in handlers/:")
        for c in bad:
            print("  %d files: %s" % (len(c), " ".join(c)))
            for f in c:
                for g in sorted(edges.get(f, set()) & set(c)):
                    names = why.get((f, g))
                    print("    %s -> %s%s" % (f, g, " (%s)" % " ".join(names)
                                             if names else " (#include)"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
