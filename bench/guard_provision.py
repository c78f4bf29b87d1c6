#!/usr/bin/env python3
"""bench/guard_provision.py: the admin API calls of bench/guard-overhead.sh.

What it is for: creating many workspaces and keys on a running warrantd, and setting every
workspace's limit, quickly (a pool of threads, each with its own keep-alive connection, so
that the storage writer group-commits many writes at once). Standard library only.

  guard_provision.py create URL ADMIN_KEY WORKSPACES KEYS OUT_DIR
      The bootstrap workspace `default` counts as one of WORKSPACES and its bootstrap key as
      one of KEYS: creates WORKSPACES-1 workspaces and KEYS-1 keys (role platform.viewer,
      spread evenly, `default` included). Writes OUT_DIR/workspaces (one id a line, `default`
      first) and OUT_DIR/keys (one key a line, the bootstrap key first).
  guard_provision.py limits URL ADMIN_KEY WORKSPACES_FILE PER_MINUTE
      PUT /v1/admin/workspaces/{id}/limits for every listed workspace. Workspace `default` is
      set last, because the admin requests themselves count against its limit.

Exit status 1 on any non-2xx answer (printed on stderr).
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

THREADS = int(os.environ.get("PROVISION_THREADS", "32"))


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, url, key):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.key = key
        self.local = threading.local()

    def call(self, method, path, body):
        data = json.dumps(body).encode()
        headers = {"x-api-key": self.key, "Content-Type": "application/json"}
        for attempt in range(5):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                conn.request(method, path, body=data, headers=headers)
                res = conn.getresponse()
                text = res.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                time.sleep(0.05 * (attempt + 1))
                continue
            if res.status == 503 and attempt < 4:  # writer queue full: retry, as Retry-After says
                time.sleep(0.2)
                continue
            if res.status // 100 != 2:
                raise RuntimeError(f"{method} {path}: {res.status} {text[:300]!r}")
            return json.loads(text)
        raise RuntimeError(f"{method} {path}: no answer")


def run_all(fn, items):
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(fn, items))


def create(url, admin_key, n_workspaces, n_keys, out_dir):
    c = Client(url, admin_key)
    t0 = time.monotonic()
    # Raise `default` first: every admin call below counts against its limit.
    c.call("PUT", "/v1/admin/workspaces/default/limits", {"requests_per_minute": 10_000_000})
    created = run_all(lambda i: c.call("POST", "/v1/admin/workspaces", {"name": f"guardbench-{i:05d}"})["id"],
                      range(1, n_workspaces))
    workspaces = ["default"] + created
    t1 = time.monotonic()
    # Key j (j = 1 .. n_keys-1; key 0 is the bootstrap key of `default`) goes to workspace j % W.
    owners = [workspaces[j % len(workspaces)] for j in range(1, n_keys)]
    keys = run_all(lambda ws: c.call("POST", f"/v1/admin/workspaces/{ws}/keys",
                                     {"roles": ["platform.viewer"], "name": "guardbench"})["key"], owners)
    t2 = time.monotonic()
    with open(os.path.join(out_dir, "workspaces"), "w") as f:
        f.write("\n".join(workspaces) + "\n")
    with open(os.path.join(out_dir, "keys"), "w") as f:
        f.write("\n".join([admin_key] + keys) + "\n")
    print(f"created {len(created)} workspaces in {t1 - t0:.1f} s and {len(keys)} keys in {t2 - t1:.1f} s "
          f"({THREADS} connections)", file=sys.stderr)


def limits(url, admin_key, workspaces_file, per_minute):
    c = Client(url, admin_key)
    with open(workspaces_file) as f:
        ids = [line.strip() for line in f if line.strip()]
    t0 = time.monotonic()
    others = [w for w in ids if w != "default"]
    run_all(lambda ws: c.call("PUT", f"/v1/admin/workspaces/{ws}/limits", {"requests_per_minute": per_minute}),
            others)
    if "default" in ids:
        c.call("PUT", "/v1/admin/workspaces/default/limits", {"requests_per_minute": per_minute})
    print(f"set {len(ids)} workspace limits to {per_minute}/min in {time.monotonic() - t0:.1f} s", file=sys.stderr)


def main(argv):
    try:
        if len(argv) == 6 and argv[0] == "create":
            create(argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5])
        elif len(argv) == 5 and argv[0] == "limits":
            limits(argv[1], argv[2], argv[3], int(argv[4]))
        else:
            print(__doc__, file=sys.stderr)
            return 64
    except RuntimeError as e:
        print(f"guard_provision: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
