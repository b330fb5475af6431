from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class RoleUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Role", {"fields": ("role", "is_supervisor")}),)
    list_display = ("username", "role", "is_supervisor", "is_active", "last_login")
    list_filter = ("role", "is_supervisor", "is_active")
