"""Administrators edit the Vietnamese templates: checked (fields, stop link, ≤ 400 characters)
and previewed with a real dossier."""

from __future__ import annotations

import pytest

from notify import services, texts
from notify.models import MAX_MESSAGE_LENGTH, Event, Message, MessageTemplate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("event", list(Event))
def test_default_templates_fit_in_400_characters_with_the_longest_values(event):
    assert texts.problems(event, texts.DEFAULTS[event]) == []
    assert len(texts.render(texts.DEFAULTS[event], texts.longest_values())) <= MAX_MESSAGE_LENGTH


def test_every_event_has_a_template_row_after_migrating():
    assert set(MessageTemplate.objects.values_list("event", flat=True)) == set(Event.values)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("Hồ sơ {ma_ho_so}, CCCD {so_cccd}. Dừng: {dung_tin}", "{so_cccd}"),
        ("Hồ sơ {ma_ho_so} đã tiếp nhận.", "{dung_tin}"),
        ("{thu_tuc} " * 8 + "{dung_tin}", "400"),
    ],
)
def test_a_bad_template_is_refused_with_a_reason(client_for, administrator, text, complaint):
    template = MessageTemplate.objects.get(event=Event.RECEIVED)
    page = client_for(administrator).post(
        f"/admin/notify/messagetemplate/{template.pk}/change/", {"event": "received", "text": text}
    )
    assert page.status_code == 200 and complaint in page.content.decode()
    template.refresh_from_db()
    assert template.text == texts.DEFAULTS[Event.RECEIVED]


def test_an_edited_template_is_used_for_the_next_message(client_for, administrator, sms, log_dossier):
    template = MessageTemplate.objects.get(event=Event.RECEIVED)
    text = "UBND {noi_nhan}: hồ sơ {ma_ho_so} hẹn trả {ngay_hen_tra}. Dừng nhận tin: {dung_tin}"
    page = client_for(administrator).post(
        f"/admin/notify/messagetemplate/{template.pk}/change/", {"event": "received", "text": text}
    )
    assert page.status_code == 302
    dossier = log_dossier()
    sent = Message.objects.get(dossier=dossier).text
    assert sent.startswith("UBND Xã Hoàn Lão: hồ sơ " + dossier.code)


def test_preview_with_a_real_dossier(client_for, administrator, official, sms, log_dossier):
    dossier = log_dossier()
    template = MessageTemplate.objects.get(event=Event.RECEIVED)
    url = f"/admin/notify/messagetemplate/{template.pk}/preview/"
    page = client_for(administrator).post(url, {"text": template.text, "dossier_code": dossier.code})
    preview = page.content.decode()
    assert dossier.code in preview and dossier.due_date.strftime("%d/%m/%Y") in preview
    assert "001234567889" not in preview
    missing = client_for(administrator).post(url, {"text": template.text, "dossier_code": "nope"})
    assert "errornote" in missing.content.decode()
    assert client_for(official).get(url).status_code == 302  # the admin site only


def test_a_long_site_address_shortens_the_procedure_name_not_the_links(settings, sms, log_dossier, procedure):
    settings.PUBLIC_BASE_URL = "https://dichvucong.tinh-rat-dai.gov.vn/cong-dan/buu-chinh-cong-ich/postdesk"
    procedure.name = "Thủ tục " + "rất dài " * 30
    procedure.save()
    dossier = log_dossier()
    text = Message.objects.get(dossier=dossier).text
    stop = services.absolute(f"/stop/{services.stop_token(dossier.pk)}/")
    assert len(text) <= MAX_MESSAGE_LENGTH
    assert text.endswith(stop) and services.lookup_link(dossier) in text
    assert "Thủ tục rất dài" in text and procedure.name[:60] not in text  # cut harder than usual


NEW_TEXT = "UBND {noi_nhan}: hồ sơ {ma_ho_so} hẹn trả {ngay_hen_tra}. Dừng nhận tin: {dung_tin}"


@pytest.fixture
def clock(monkeypatch):
    """The monotonic clock the template cache reads, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(services.time, "monotonic", lambda: now[0])
    return now


def test_templates_are_read_once_per_delay_not_once_per_notice(
    sms, log_dossier, clock, django_assert_num_queries
):
    log_dossier()  # reads the templates
    with django_assert_num_queries(0):
        assert services.template_text(Event.RECEIVED) == texts.DEFAULTS[Event.RECEIVED]
    clock[0] += services.TEMPLATE_CACHE_SECONDS
    with django_assert_num_queries(1):
        services.template_text(Event.RECEIVED)


def test_an_edit_in_the_admin_is_used_at_once_by_the_process_that_saved_it(
    client_for, administrator, sms, log_dossier, clock
):
    log_dossier()  # the texts are cached now
    template = MessageTemplate.objects.get(event=Event.RECEIVED)
    page = client_for(administrator).post(
        f"/admin/notify/messagetemplate/{template.pk}/change/", {"event": "received", "text": NEW_TEXT}
    )
    assert page.status_code == 302
    dossier = log_dossier()
    assert Message.objects.get(dossier=dossier).text.startswith("UBND Xã Hoàn Lão: hồ sơ " + dossier.code)
    MessageTemplate.objects.filter(event=Event.RECEIVED).delete()  # the default text, at once too
    dossier = log_dossier()
    assert Message.objects.get(dossier=dossier).text == services.compose(Event.RECEIVED, dossier)[0]
    assert not Message.objects.get(dossier=dossier).text.startswith("UBND")


def test_an_edit_by_another_worker_is_used_within_the_cache_delay(sms, log_dossier, clock):
    old_text = Message.objects.get(dossier=log_dossier()).text
    # Another process saved it: no signal reaches this one (update() sends none either).
    MessageTemplate.objects.filter(event=Event.RECEIVED).update(text=NEW_TEXT)
    clock[0] += services.TEMPLATE_CACHE_SECONDS - 1
    dossier = log_dossier()
    text = Message.objects.get(dossier=dossier).text
    assert text[:40] == old_text[:40] and not text.startswith("UBND")
    clock[0] += 1
    dossier = log_dossier()
    assert Message.objects.get(dossier=dossier).text.startswith("UBND Xã Hoàn Lão: hồ sơ " + dossier.code)
