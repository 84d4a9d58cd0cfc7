import { readFileSync } from 'node:fs';

/**
 * Every setting named in env.example, blank: a developer's shell or `.env` must not leak into a test
 * (an empty value counts as unset and keeps `.env` from filling it in). Test services start from it
 * (testEnv); the CLIs and the simulator, run as children, get it too.
 */
export const BLANK_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  [
    ...readFileSync(new URL('../../env.example', import.meta.url), 'utf-8').matchAll(
      /^#?\s*([A-Z][A-Z0-9_]+)=/gm,
    ),
  ].map((m) => [m[1] as string, '']),
);
