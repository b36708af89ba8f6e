"""Run by tests/unit/deploy/test_prefork.py as a forked child: says what it sees, then exits 3."""

import os
import sys
from pathlib import Path

print(f"argv={sys.argv[0]} env={os.environ.get('LT_PREFORK_TEST')} sid={os.getsid(0) == os.getpid()}", flush=True)
print(Path(f"/proc/{os.getpid()}/cmdline").read_bytes().split(b"\0")[0].decode(), flush=True)
print(f"fds={sorted(int(fd) for fd in os.listdir('/proc/self/fd'))}", flush=True)
sys.exit(3)
