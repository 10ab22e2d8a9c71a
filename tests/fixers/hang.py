"""A fixer that hangs: it starts a grandchild, records both pids, and sleeps forever.

The pids go to the file named by FIXER_PIDS, written atomically once both processes exist,
so a test can wait for it and then check that both are gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from _contract import inputs

inputs()
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
target = os.environ["FIXER_PIDS"]
with open(target + ".tmp", "w", encoding="utf-8") as handle:
    handle.write(f"{os.getpid()} {grandchild.pid}\n")
os.replace(target + ".tmp", target)
while True:
    time.sleep(1)
