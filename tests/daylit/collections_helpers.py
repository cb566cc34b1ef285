"""Shared by the promise and dispute tests: catching the core app's signals as they are sent."""

import contextlib

from django.dispatch import Signal


@contextlib.contextmanager
def caught(signal: Signal):
    """Every send of `signal` while inside, as its kwargs (sender included), in order."""
    sent: list[dict] = []

    def receiver(sender, **kwargs):
        kwargs.pop("signal", None)
        sent.append({"sender": sender, **kwargs})

    signal.connect(receiver, weak=False, dispatch_uid=f"test-catch-{id(sent)}")
    try:
        yield sent
    finally:
        signal.disconnect(dispatch_uid=f"test-catch-{id(sent)}")
