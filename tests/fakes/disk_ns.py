"""Run inside a fresh mount namespace (``unshare -m``): a real ``lll`` command on a workspace
whose disk is full (a small tmpfs, filled up) or mounted read-only. Network is shared, so a
feed server on the test's loopback is reachable. Prints JSON with each step's exit status,
stderr and the stored item count.

Usage: python disk_ns.py full|readonly WORKSPACE FEED_URL
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    mode, source, feed = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    lll = str(Path(sys.executable).parent / "lll")
    env = {k: v for k, v in os.environ.items() if k != "LLL_DEBUG"}
    env["LLL_ALLOW_PRIVATE"] = "1"
    mount = Path(tempfile.mkdtemp())
    steps: list[dict[str, object]] = []

    def run(*args: str) -> None:
        done = subprocess.run([lll, "--workspace", str(ws), *args], capture_output=True, text=True, env=env,
                              timeout=120)
        steps.append({"args": list(args), "rc": done.returncode, "stderr": done.stderr, "stdout": done.stdout})

    if mode == "full":
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], check=True)
        ws = mount / "ws"
        shutil.copytree(source, ws)
        run("sources", "add", feed, "--name", "Big Feed")
        filler = mount / "filler"
        with open(filler, "wb") as out:  # fill the disk up to the last 64 KiB
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        free = shutil.disk_usage(mount).free
        os.truncate(filler, max(0, filler.stat().st_size - 64 * 1024 + free))
        run("fetch")
        filler.unlink()
        run("fetch")
    else:
        ws = mount / "ws"
        shutil.copytree(source, ws)
        subprocess.run(["mount", "--bind", str(ws), str(ws)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ws)], check=True)
        run("sources", "add", feed, "--name", "Big Feed")
        run("fetch")
    # on the read-only mount SQLite cannot make a WAL database's -shm file: read it as immutable there
    flags = "mode=ro&immutable=1" if mode == "readonly" else "mode=ro"
    with sqlite3.connect(f"file:{ws / 'lll.db'}?{flags}", uri=True) as conn:
        items = conn.execute("SELECT count(*), count(DISTINCT identity) FROM items WHERE source_id IN "
                             "(SELECT id FROM sources WHERE url = ?)", (feed,)).fetchone()
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    print(json.dumps({"steps": steps, "items": items[0], "distinct": items[1], "integrity": check}))


if __name__ == "__main__":
    main()
