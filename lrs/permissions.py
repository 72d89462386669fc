from rest_framework.permissions import BasePermission

from tenants.scopes import scopes_allow


class HasXAPIScope(BasePermission):
    """Authenticated, and holding a scope the view lists for the request's method.

    Views declare ``read_scopes`` and ``write_scopes``; a view that declares neither is
    reachable only with ``all`` (or ``all/read`` for reads), so forgetting to declare
    scopes fails closed.
    """

    message = "the credential's scopes do not allow this request"

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if principal is None:
            return False
        return scopes_allow(
            principal.scopes,
            method=request.method,
            read_scopes=getattr(view, "read_scopes", ()),
            write_scopes=getattr(view, "write_scopes", ()),
        )
