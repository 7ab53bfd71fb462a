"""`open287g sync`: keep the database current with ICE's 287(g) page, unattended."""
