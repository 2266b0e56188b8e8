/** Structured details of a log line. */
export type LogDetails = Record<string, unknown>;

/**
 * Where the layers log: a message, with or without structured details. It lives in the core,
 * which every layer already depends on, as a port like `Trainer`: an interface only, no
 * output of its own. Powertools' Logger (in Lambda) and `console` (locally) satisfy it as they
 * are, so adapters pass either without wrapping it. (Two signatures rather than an optional
 * `details?`: Powertools' rest parameter accepts no explicit `undefined`.)
 */
export interface Logger {
  debug(message: string): void;
  debug(message: string, details: LogDetails): void;
  info(message: string): void;
  info(message: string, details: LogDetails): void;
  warn(message: string): void;
  warn(message: string, details: LogDetails): void;
  error(message: string): void;
  error(message: string, details: LogDetails): void;
}
