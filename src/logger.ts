/**
 * Structured JSON logs (pino). Secrets never reach a log line: the redact
 * list below is a safety net, the rule is that callers never log token,
 * code, secret or verifier values in the first place (tested by the
 * log-hygiene test, which greps every log line for every secret it saw).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'mcp-reference-server' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'token',
          'access_token',
          'refresh_token',
          'client_secret',
          'code',
          'code_verifier',
          'password'
        ],
        censor: '[redacted]'
      },
      timestamp: pino.stdTimeFunctions.isoTime
    },
    destination
  );
}

/**
 * Logs to stderr (fd 2): for the stdio transport, whose stdout carries MCP
 * messages only. Synchronous, so a line is never interleaved or lost on exit.
 */
export function createStderrLogger(level: string): Logger {
  return createLogger(level, pino.destination({ fd: 2, sync: true }));
}
