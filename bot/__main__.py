"""`python -m bot` and the `eventbot` command: the command line, with Ctrl-C during start-up handled too."""

import sys


def run() -> int:
    """Import the program and run it; Ctrl-C while the libraries load is an interruption, not a traceback."""
    try:
        from bot.cli import main
    except KeyboardInterrupt:
        print("eventbot: interrupted", file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
