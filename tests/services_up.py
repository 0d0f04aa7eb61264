"""Exit 0 when the PostgreSQL and Redis URLs given on the command line both answer."""

import sys

import environ
import psycopg
import redis


def main(database_url: str, redis_url: str) -> int:
    db = environ.Env.db_url_config(database_url)
    try:
        psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"],
            dbname="postgres",
            connect_timeout=3,
        ).close()
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:
        print(f"service check failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
