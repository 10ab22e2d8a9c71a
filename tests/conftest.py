"""Suite-wide setup."""

from __future__ import annotations

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
