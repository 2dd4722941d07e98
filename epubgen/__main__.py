"""The epubgen program (`python -m epubgen`, and the `epubgen` script): a Ctrl-C while its modules
load ends it as one during a build does, with click's short message instead of a traceback."""

import sys


def launch() -> None:
    """Load the command line, then run it."""
    try:
        from epubgen.cli import run
    except KeyboardInterrupt:
        print("\nAborted!", file=sys.stderr)  # what click says, and its status, for a Ctrl-C later
        sys.exit(1)
    run()


if __name__ == "__main__":
    launch()
