"""Suite-wide setup."""

from __future__ import annotations

import os
import signal

# The interrupt tests send SIGINT/SIGHUP to the gate and expect it to clean up. A runner that
# starts the suite with those signals ignored (a background job without job control, nohup)
# would pass the ignoring on to every gate the tests start, and the gate rightly keeps an
# inherited "ignore". Start the gates the tests run the way a terminal would.
for _sig, _handler in (
    (signal.SIGINT, signal.default_int_handler),
    (signal.SIGHUP, signal.SIG_DFL),
):
    if signal.getsignal(_sig) == signal.SIG_IGN:
        signal.signal(_sig, _handler)

# Every test starts the gate as a new process. With PYTHONDONTWRITEBYTECODE (set in some CI
# images) each one would compile its ~80 modules again: a third of the suite's CPU time. A
# user's install has its bytecode; the tools the gate runs keep theirs out of the checked tree
# under PYTHONPYCACHEPREFIX either way.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
