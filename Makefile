# make demo: the whole application with live demo studies.  make test: set up and run every test.
SHELL := /bin/bash
VENV := .venv/bin

# The test run talks to real services: its own Orthanc on spare ports, PostgreSQL, Redis db 5.
# Ports, database and Redis db can be moved (two runs on one machine must not share them).
TEST_ORTHANC_HTTP_PORT ?= 18042
TEST_ORTHANC_DICOM_PORT ?= 14242
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/triage
TEST_REDIS_URL ?= redis://127.0.0.1:6379/5
TEST_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=test-secret-key-not-for-production-0123456789abcdef \
	DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0 DJANGO_HSTS_SECONDS=0 \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	ORTHANC_HTTP_PORT=$(TEST_ORTHANC_HTTP_PORT) ORTHANC_DICOM_PORT=$(TEST_ORTHANC_DICOM_PORT) \
	ORTHANC_URL=http://127.0.0.1:$(TEST_ORTHANC_HTTP_PORT) \
	ORTHANC_USERNAME=triage ORTHANC_PASSWORD=test-orthanc-password ORTHANC_STABLE_AGE=2 \
	ORTHANC_ADMIN_USERNAME=orthanc-admin ORTHANC_ADMIN_PASSWORD=test-orthanc-admin-password \
	INGEST_POLL_SECONDS=0.5 DJANGO_FAST_PASSWORD_HASHER=1

.PHONY: setup demo test test-fast pytest lint bench clean

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test:
	WITH_TEST_TOOLS=1 bash scripts/setup.sh
	bash scripts/services.sh
	$(TEST_ENV) $(VENV)/python manage.py collectstatic --no-input -v 0
	$(TEST_ENV) $(VENV)/python -m pytest $(PYTEST_ARGS)

# Run pytest on an installed checkout without the setup step (e.g. `make pytest PYTEST_ARGS="tests/worklist"`).
pytest:
	$(TEST_ENV) $(VENV)/python manage.py collectstatic --no-input -v 0
	$(TEST_ENV) $(VENV)/python -m pytest $(PYTEST_ARGS)

test-fast:
	$(TEST_ENV) $(VENV)/python manage.py collectstatic --no-input -v 0
	$(TEST_ENV) $(VENV)/python -m pytest -m "not integration and not ui" $(PYTEST_ARGS)

lint:
	$(VENV)/ruff check .

clean:
	rm -rf var .pytest_cache
