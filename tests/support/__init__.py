"""Helpers the tests share: fixtures, live servers, attackers, generated files."""
