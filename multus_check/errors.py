"""The project's own few error types.

Collectors, probes and fixers translate library errors (kubernetes client, OS, netlink)
into these, so the CLI can print one clear line and pick the documented exit code.
"""

from __future__ import annotations


class MultusCheckError(Exception):
    """Base class: a problem the user can act on. The message names cause and next step."""


class UsageError(MultusCheckError):
    """Unusable invocation or input (exit code 2)."""


class SnapshotError(UsageError):
    """The snapshot directory cannot be used at all (missing, not a directory, no data)."""


class ClusterAccessError(MultusCheckError):
    """The cluster could not be reached or refused us as a whole."""


class Unreachable(ClusterAccessError):
    """The API server did not answer (DNS, connection refused, TLS, timeout)."""


class Unauthorized(ClusterAccessError):
    """The credentials were rejected (expired token, wrong certificate)."""


class Forbidden(ClusterAccessError):
    """RBAC denied a verb on a resource; `verb` and `resource` name what is missing."""

    def __init__(self, message: str, verb: str = "", resource: str = "") -> None:
        super().__init__(message)
        self.verb = verb
        self.resource = resource


class NotFound(ClusterAccessError):
    """The object or API kind does not exist on this server."""


class Conflict(ClusterAccessError):
    """The object changed since it was read (resourceVersion precondition failed)."""


class Invalid(ClusterAccessError):
    """The API server refused a request as invalid (400/422); `server_message` is its own text.

    Expected by the Service CIDR probe, whose dry-run Service is refused on purpose.
    """

    def __init__(self, message: str, server_message: str = "", status: int = 422) -> None:
        super().__init__(message)
        self.server_message = server_message
        self.status = status


class HostError(MultusCheckError):
    """A host-level operation failed (netns, CNI invocation, process start)."""


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread so that cleanup runs as for Ctrl-C (exit 143).

    A BaseException like KeyboardInterrupt, so that no `except Exception` swallows it.
    """
