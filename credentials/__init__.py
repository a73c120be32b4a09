"""Parties, partner platforms and the credentials handshake (tokens A, B and C) both ways."""
