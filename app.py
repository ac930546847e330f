"""Launch the chat: builds index/ from corpus/ on first run, then serves on 127.0.0.1:7860."""

from __future__ import annotations

import sys

from dadong_qa.app.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
