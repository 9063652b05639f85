"""Prints one of the README's first two commands: 1, the quick start (install and the whole job), 2, the tests.

`--epochs N` swaps the quick start's epoch count for N, so CI runs it as written but short.
"""

import argparse
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("which", type=int, choices=(1, 2))
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL)
    if len(blocks) < 2:
        sys.exit(f"{README} has fewer than two ```bash blocks: the quick start and the test command")
    command = blocks[args.which - 1].strip()
    if args.epochs is not None:
        command, found = re.subn(r"--epochs \d+", f"--epochs {args.epochs}", command)
        if found != 1:
            sys.exit(f"README command {args.which} has {found} --epochs options, not one: cannot shorten it")
    print(command)


if __name__ == "__main__":
    main()
