/**
 * Logging (MCP server/utilities/logging; deprecated since 2026-07-28 by
 * SEP-2577, kept and labelled). Two channels:
 *
 * - 2025-era sessions: the SDK's built-in `logging/setLevel` sets the
 *   session's threshold, and ../activity.ts sends a periodic demo message to
 *   every session (`sendLoggingMessage` drops those below the threshold).
 * - 2026-07-28: there is no session to push to; tools log through
 *   `ctx.mcpReq.log()`, which the SDK gates on the request's
 *   `io.modelcontextprotocol/logLevel` `_meta` key (absent = no logs).
 */
import type { LoggingLevel } from '@modelcontextprotocol/server';

export const LOG_LEVELS: LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** The periodic demo message: cycles through every level so each threshold shows an effect. */
export function periodicLogMessage(tick: number): { level: LoggingLevel; logger: string; data: string } {
  const level = LOG_LEVELS[tick % LOG_LEVELS.length]!;
  return { level, logger: 'reference-server', data: `Periodic ${level}-level message #${tick + 1}` };
}
