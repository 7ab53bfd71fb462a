"""The ICE 287(g) participating and pending agency lists."""
