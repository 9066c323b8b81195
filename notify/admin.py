"""Admin: administrators edit the message templates (checked, previewed on a real dossier);
messages, ratings and follow-ups are read here, changed only through their services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from dossiers.models import Dossier
from dossiers.personal import mask_phone
from notify import services, texts
from notify.forms import TemplatePreviewForm
from notify.models import FollowUp, Message, MessageTemplate, Rating


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["event", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 5, "maxlength": texts.MAX_MESSAGE_LENGTH})}

    def clean(self):
        data = super().clean()
        event, text = data.get("event"), data.get("text")
        if event and text:
            for problem in texts.problems(event, text):
                self.add_error("text", problem)
        return data


def preview(template_text: str, event: str, dossier: Dossier | None) -> str:
    if dossier is None:
        return texts.render(template_text, texts.longest_values())
    item = dossier.postal_items.filter(direction="return").select_related("post_office").last()
    rating = getattr(dossier, "rating", None) if hasattr(dossier, "rating") else None
    values = services.values_for(dossier, item=item, details={"items": ""}, rating=rating)
    return texts.render(template_text, values)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["event", "text", "updated_at", "updated_by"]
    readonly_fields = ["fields_help", "preview_link"]

    @admin.display(description=_("Fields you can use"))
    def fields_help(self, obj):
        allowed = texts.ALLOWED.get(obj.event, ()) if obj else ()
        items = format_html_join(
            "",
            "<li><code>{{{}}}</code> – {}</li>",
            ((name, texts.PLACEHOLDERS[name][0]) for name in sorted(allowed)),
        )
        return format_html("<ul>{}</ul>", items)

    @admin.display(description=_("Preview"))
    def preview_link(self, obj):
        if not obj or not obj.pk:
            return "—"
        url = reverse("admin:notify_messagetemplate_preview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Preview with a real dossier"))

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="notify_messagetemplate_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk: int):
        template = get_object_or_404(MessageTemplate, pk=pk)
        form = TemplatePreviewForm(request.POST or None, initial={"text": template.text})
        rendered, problems, dossier, not_found = None, [], None, False
        if form.is_valid():
            code = form.cleaned_data["dossier_code"].strip()
            dossier = (
                Dossier.objects.select_related("procedure", "receiving_unit").filter(code=code).first()
                if code
                else Dossier.objects.select_related("procedure", "receiving_unit").order_by("-id").first()
            )
            not_found = bool(code) and dossier is None
            rendered = preview(form.cleaned_data["text"], template.event, dossier)
            problems = texts.problems(template.event, form.cleaned_data["text"])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview: %(event)s") % {"event": template.get_event_display()},
            "template_obj": template,
            "form": form,
            "rendered": rendered,
            "length": len(rendered or ""),
            "max_length": texts.MAX_MESSAGE_LENGTH,
            "problems": problems,
            "dossier": dossier,
            "not_found": not_found,
            "opts": self.model._meta,
        }
        return render(request, "notify/admin_template_preview.html", context)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "dossier",
        "event",
        "channel",
        "status",
        "attempts",
        "masked_phone",
        "sent_at",
    ]
    list_filter = ["status", "channel", "event"]
    search_fields = ["dossier__code"]
    exclude = ["phone"]
    readonly_fields = ["masked_phone"]
    list_select_related = ["dossier"]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["dossier", "stars", "answered_at", "unit", "post_office", "employee"]
    list_filter = ["stars"]
    search_fields = ["dossier__code"]
    exclude = ["token"]
    list_select_related = ["dossier", "unit", "post_office", "employee"]


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["rating", "unit", "status", "created_at", "closed_at", "closed_by"]
    list_filter = ["status"]
