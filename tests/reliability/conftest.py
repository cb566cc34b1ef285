from tests.fakes.nylas import fake_nylas  # noqa: F401 (the fake Nylas server fixture)
