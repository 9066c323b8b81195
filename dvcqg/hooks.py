"""Subscribed in DvcqgConfig.ready(): every dossier change becomes a sync entry."""

from dvcqg import services


def on_dossier_event(event) -> None:
    services.record(event=event)
