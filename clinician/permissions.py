"""Role checks of the clinician side (the shared ones live in accounts.permissions)."""

from rest_framework.permissions import BasePermission

from accounts.models import Role
from accounts.permissions import user_has_role


class IsClinician(BasePermission):
    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.CLINICIAN)


class IsDepartment(BasePermission):
    """Radiologists and managers: they see every critical result and its acknowledgement."""

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.RADIOLOGIST, Role.MANAGER)


class IsClinicianOrDepartment(BasePermission):
    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.CLINICIAN, Role.RADIOLOGIST, Role.MANAGER)
