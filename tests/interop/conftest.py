import pytest

from helpers import Fake


@pytest.fixture
def fake_github():
    """Factory: start(repos=..., org=...) -> Fake; every fake started is stopped after the test."""
    started = []

    def start(**kw) -> Fake:
        fake = Fake(**kw)
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.close()


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL for the session; each test asks it for a fresh database."""
    from helpers import Postgres

    pg = Postgres()
    yield pg
    pg.stop()
