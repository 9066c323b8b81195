from django.core.management.base import BaseCommand

from notify import services


class Command(BaseCommand):
    help = "Send the citizens' queued messages whose attempt is due (what the beat sweep does)."

    def handle(self, *args, **options):
        sent = services.send_due()
        self.stdout.write(f"{sent} message(s) sent")
