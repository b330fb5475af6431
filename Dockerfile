# Image for web, worker and beat (docker-compose.yml). Untested here: no Docker engine on these machines.
# torch is pinned in requirements.txt; point pip at a CPU-only wheel index for a much smaller image.
FROM python:3.11-slim-bookworm
WORKDIR /app
ENV PYTHONUNBUFFERED=1
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_SECRET_KEY=build-only ORTHANC_PASSWORD=build-only python manage.py collectstatic --no-input
