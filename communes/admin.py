from django.contrib import admin

from communes.models import AdministrativeUnit, PostOffice


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "kind", "parent", "identifier", "valid_from", "valid_to")
    list_filter = ("level", "kind")
    search_fields = ("code", "name", "identifier")
    autocomplete_fields = ("parent",)


@admin.register(PostOffice)
class PostOfficeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "commune", "status", "condition", "staff_count")
    list_filter = ("kind", "status", "condition", "combined_with_desk")
    search_fields = ("code", "name", "commune__name")
    autocomplete_fields = ("commune", "parent")
