"""``python -m benchmarks``: every benchmark of issue 6 and one table (see ``benchmarks/all.py``)."""

from benchmarks.all import main

raise SystemExit(main())
