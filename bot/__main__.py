"""`python -m bot` and the `eventbot` command: the command line, with Ctrl-C during start-up handled too."""

import signal
import sys


def run() -> int:
    """Import the program and run it; Ctrl-C while the libraries load is an interruption, not a traceback."""
    try:
        from bot.cli import main

        code = main()
    except KeyboardInterrupt:
        print("eventbot: interrupted", file=sys.stderr)
        return 130
    # The work is done: a Ctrl-C while the interpreter shuts down (joining threads, atexit) changes nothing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code


if __name__ == "__main__":
    sys.exit(run())
