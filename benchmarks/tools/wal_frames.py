#!/usr/bin/env python3
"""Which b-trees the journal's frames wrote: reads a copy of a SQLite database and its -wal file, counts the frames of
the journal's current generation (those since its last reset) by page, and names each page's table or index with
dbstat. Prints frames, commits, and per b-tree the frames and distinct pages, most first.
    wal_frames.py <database file>"""
import collections
import os
import shutil
import sqlite3
import struct
import sys
import tempfile


def main(database):
    with tempfile.TemporaryDirectory() as scratch:
        copy = os.path.join(scratch, "copy.db")
        shutil.copy(database, copy)
        shutil.copy(database + "-wal", copy + "-wal")
        journal = open(copy + "-wal", "rb").read()
        _, _, page_size, _, salt1, salt2 = struct.unpack_from(">IIIIII", journal, 0)
        frame_size, offset = 24 + page_size, 32
        frames_by_page, frames, commits = collections.Counter(), 0, 0
        while offset + frame_size <= len(journal):
            page, commit_size, s1, s2 = struct.unpack_from(">IIII", journal, offset)
            if (s1, s2) != (salt1, salt2):
                break  # frames of an earlier generation, overwritten in place since the last reset
            frames_by_page[page] += 1
            frames += 1
            commits += commit_size != 0
            offset += frame_size
        owner = {page: name for name, page in sqlite3.connect(copy).execute("SELECT name, pageno FROM dbstat")}
    by_tree, pages_by_tree = collections.Counter(), collections.Counter()
    for page, count in frames_by_page.items():
        tree = owner.get(page, "(free or new)")
        by_tree[tree] += count
        pages_by_tree[tree] += 1
    print(f"frames {frames}, commits {commits}, {frames / max(commits, 1):.1f} frames per commit, page size {page_size}")
    print("| b-tree | frames | share | distinct pages |\n| --- | ---: | ---: | ---: |")
    for tree, count in by_tree.most_common(12):
        print(f"| {tree} | {count} | {count / frames:.0%} | {pages_by_tree[tree]} |")


if __name__ == "__main__":
    main(sys.argv[1])
