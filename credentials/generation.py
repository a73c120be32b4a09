"""The credentials generation: moved by every write of who may call us and whom we push to.

credentials.selectors keeps, per process, the callers it has read (a partner with its roles,
by token digest), our parties and the receivers of each module, and checks them on every
request against this generation (ocpi.generations). Every service that writes partners
(their status, tokens, names, settings), their roles or endpoints, or our parties, calls
`credentials_changed()` in its transaction: a revoked token or a changed role counts from
the next request on, in every process. tests/credentials/test_generation.py runs every
writer and fails when one does not move it.

A partner's last contact (credentials.authentication) and its count of stale updates
(credentials.receiving) do not move it: no cached read depends on them, and with many
partners calling, a bump per call would leave the cache nothing to keep.
"""

from ocpi import generations

GENERATION = "credentials"


def credentials_changed() -> None:
    """Move the credentials generation, in the caller's transaction."""
    generations.bump(GENERATION)
