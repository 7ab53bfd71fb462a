"""The demo data set: invented agencies in ICE's spreadsheet layout, for `make run` offline.

Every agency name ends in "(DEMO)" and the loader marks these files `is_demo`, so nothing
from them can be mistaken for the real 287(g) lists. Rebuild with
`python -m open287g.demo.build` (the .xlsx files are committed so their checksums, and so
re-loads, are stable).
"""
