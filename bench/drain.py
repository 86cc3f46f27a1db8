"""After a write run: the wait until Keel has done the work the run left behind (hashes still
running, the outbox's mail jobs), and the mails it logged meanwhile."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from bench.processes import process_cpu_seconds
from bench.settings import MAIL_LINES
from bench.stack import Stack


def drain(stack: Stack, notes: list[str], pid: int, timeout: float = 120) -> dict[str, Any]:
    """Wait until Keel's worker is idle and its outbox (if its tree has one) holds no
    waiting job; what was waiting when the load stopped, and the CPU the wait used."""
    assert stack.postgres is not None
    dsn = stack.postgres.dsn("keel_bench")
    poll = 0.25

    async def settle() -> dict[str, Any]:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            has_outbox = await connection.fetchval("SELECT to_regclass('outbox') IS NOT NULL")
            # Three layouts: no outbox (mail sent by the request's process); an outbox
            # whose rows are the jobs (failed_at); an outbox relayed into procrastinate.
            has_failed_at = await connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns "
                "WHERE table_name = 'outbox' AND column_name = 'failed_at')"
            )
            has_queue = await connection.fetchval(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"
            )
            in_outbox = (
                "SELECT count(*) FROM outbox WHERE failed_at IS NULL"
                if has_failed_at
                else "SELECT count(*) FROM outbox"
            )
            in_queue = "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"

            async def waiting() -> int:
                if not has_outbox:
                    return 0
                count = int(await connection.fetchval(in_outbox))
                if has_queue:
                    count += int(await connection.fetchval(in_queue))
                return count

            started, cpu_before = time.monotonic(), process_cpu_seconds(pid)
            backlog = left = await waiting()
            quiet = 0
            while quiet < 2 and time.monotonic() - started < timeout:
                cpu = process_cpu_seconds(pid)
                await asyncio.sleep(poll)
                busy = (process_cpu_seconds(pid) - cpu) / poll
                left = await waiting()
                emptied = left == 0 or not stack.config.jobs_in_process
                quiet = quiet + 1 if emptied and busy < 0.1 else 0
            failed_sql = (
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'"
                if has_queue
                else "SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL"
                if has_failed_at
                else None
            )
            failed = int(await connection.fetchval(failed_sql)) if failed_sql else None
            return {
                "outbox_backlog": backlog if has_outbox else None,
                "outbox_left": left if has_outbox else None,
                "outbox_failed": failed,
                "drain_s": round(time.monotonic() - started, 2),
                "drain_cpu_s": round(process_cpu_seconds(pid) - cpu_before, 3),
                "drained": quiet >= 2,
            }
        finally:
            await connection.close()

    drained = asyncio.run(settle())
    if not drained["drained"]:
        notes.append(
            f"Keel was still busy {timeout:.0f} s after a write run "
            f"({drained['outbox_left']} outbox jobs waiting)"
        )
    if drained["outbox_failed"]:
        notes.append(f"{drained['outbox_failed']} outbox jobs failed")
    return drained


def mails_logged(stack: Stack, offset: int) -> int:
    """Mails Keel wrote to its log (no SMTP_HOST here) since ``offset``."""
    assert stack.keel is not None
    with open(stack.keel.log_path, "rb") as log:
        log.seek(offset)
        text = log.read()
    return sum(text.count(line) for line in MAIL_LINES)
