"""Start the ASGI server: ``python -m config.serve --host H --port P [--workers N] [--no-access-log]``.

uvicorn trusts X-Forwarded-For / X-Forwarded-Proto from 127.0.0.1 unless told otherwise, so
anyone reaching the app from the same machine (or through a port published directly) could
pick the client address that the login lockout and the audit log see. Here forwarded headers
are trusted only from the proxies named in DJANGO_BEHIND_PROXY (comma-separated addresses or
networks); without it they are ignored and the address is the TCP peer's.
"""

from __future__ import annotations

import argparse
import ipaddress
import os


class ProxySettingInvalid(ValueError):
    pass


def trusted_proxies(value: str | None = None) -> list[str]:
    """The proxy addresses/networks DJANGO_BEHIND_PROXY names; [] when unset or empty."""
    value = os.environ.get("DJANGO_BEHIND_PROXY", "") if value is None else value
    names = [part.strip() for part in value.split(",") if part.strip()]
    for name in names:
        try:
            ipaddress.ip_network(name, strict=False)
        except ValueError:
            # The old boolean form ("1") trusted whoever connected: name the proxy instead.
            raise ProxySettingInvalid(
                f"DJANGO_BEHIND_PROXY must list the proxy's addresses (e.g. 10.0.0.5 or 10.0.0.0/24), not {name!r}"
            ) from None
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args(argv)
    proxies = trusted_proxies()
    # A pool of PostgreSQL connections per web process (config.settings): ASGI requests each run in
    # a thread of their own, so without it every request opened (forked) a new backend.
    os.environ.setdefault("DATABASE_POOL_MAX", "8")
    if args.no_access_log:
        os.environ["WEB_ACCESS_LOG"] = "0"  # config.settings: Django's logging set-up would re-enable it
    import uvicorn

    uvicorn.run("config.asgi:application", host=args.host, port=args.port, workers=args.workers,
                access_log=not args.no_access_log, proxy_headers=bool(proxies),
                forwarded_allow_ips=",".join(proxies) if proxies else "")


if __name__ == "__main__":
    main()
