"""Role checks shared by the REST API, the pages and the websocket consumer."""

from rest_framework.permissions import BasePermission

from accounts.models import Role


def user_has_role(user, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


class IsRadiologist(BasePermission):
    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.RADIOLOGIST)


class ReadsWorklist(BasePermission):
    """Radiologists and managers: the people who work the department's worklist."""

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.RADIOLOGIST, Role.MANAGER)


class IsManager(BasePermission):
    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.MANAGER)


class SendsOrders(BasePermission):
    """The RIS interface account (and managers, for manual corrections) may post orders."""

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.INTERFACE, Role.MANAGER)
