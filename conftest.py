"""Test options shared by the whole suite."""
import pytest


def pytest_addoption(parser):
    parser.addoption(
        '--slow',
        action='store_true',
        help='also run tests marked slow (end-to-end trainings); CI does')


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: end-to-end test (minutes); runs with --slow')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--slow'):
        return
    skip = pytest.mark.skip(reason='slow: run with --slow')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip)
