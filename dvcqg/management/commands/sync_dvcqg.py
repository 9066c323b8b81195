from django.core.management.base import BaseCommand

from dvcqg import services


class Command(BaseCommand):
    help = "Send the national portal's waiting entries whose attempt is due (what the beat sweep does)."

    def handle(self, *args, **options):
        sent = services.send_due()
        self.stdout.write(f"{sent} change(s) synchronised")
