"The longest test file first: with two workers (`make test`: pytest -n 2 --dist loadfile) the others run beside it."
FIRST = ('test_reproduce.py', 'test_scaling.py')


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: next((i for i, name in enumerate(FIRST) if item.fspath.basename == name), len(FIRST)))
