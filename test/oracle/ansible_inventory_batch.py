"""Run `ansible-inventory --list` for many inventories, paying Ansible's start-up once.

Ansible takes seconds to start; the differential test has one case per fixture.
This imports Ansible once, then forks one child per case (so no state of one
case can leak into the next) that runs Ansible's own InventoryCLI with the
case's arguments. Prints one JSON object: {case name: the --list output, or
{"error": what Ansible said}}.
Input (stdin): [{"name": ..., "args": ["-i", PATH, "--playbook-dir", DIR], "env": {...}}, ...]
"""
import contextlib
import io
import json
import os
import sys

from ansible.cli.inventory import InventoryCLI


def run_case(case):
    out = io.StringIO()
    err = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            InventoryCLI(["ansible-inventory", *case["args"], "--list"]).run()
        except SystemExit as e:  # InventoryCLI.run() ends with sys.exit
            code = e.code
        except Exception as e:  # a case Ansible refuses is a result too
            return {"error": "%s: %s" % (type(e).__name__, e)}
    if code not in (0, None):
        return {"error": err.getvalue()}
    return json.loads(out.getvalue())


results = {}
for case in json.load(sys.stdin):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            data = json.dumps(run_case(case)).encode()
        except BaseException as e:
            data = json.dumps({"error": repr(e)}).encode()
        with os.fdopen(write_end, "wb") as w:
            w.write(data)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as r:
        data = r.read()
    os.waitpid(pid, 0)
    results[case["name"]] = json.loads(data) if data else {"error": "no output"}
json.dump(results, sys.stdout)
