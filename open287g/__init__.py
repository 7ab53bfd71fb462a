"""open287g: open data on the US 287(g) program, served over GraphQL and REST."""

__version__ = "0.1.0"
