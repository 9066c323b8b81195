from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "role", "unit", "post_office", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "full_name", "email")
    autocomplete_fields = ("unit", "post_office")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("PostDesk"), {"fields": ("full_name", "phone", "role", "unit", "post_office")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("PostDesk"), {"fields": ("full_name", "role", "unit", "post_office")}),
    )
