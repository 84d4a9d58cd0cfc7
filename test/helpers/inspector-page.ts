/** What the browser tests read off the inspector page: a machine's highlighted states and its sequence view. */
import type { Page } from 'playwright-core';

const section = (machine: string) => `section[data-machine="${machine}"]`;

/** Waits until a machine's diagram is drawn with `state` highlighted. */
export const drawnAt = (page: Page, machine: string, state: string) =>
  page.waitForSelector(`${section(machine)} .diagram[data-current="${state}"] svg`, { timeout: 5000 });

/** The text of the highlighted state(s) in a machine's diagram. */
export const highlighted = (page: Page, machine: string) =>
  page.$$eval(`${section(machine)} .diagram svg g.node.current`, (nodes) =>
    nodes.map((n) => n.textContent?.trim() ?? ''),
  );

/** The names of the composite states marked as around the current one. */
export const highlightedParents = (page: Page, machine: string) =>
  page.$$eval(
    `${section(machine)} .diagram svg g.statediagram-cluster.currentParent .cluster-label`,
    (labels) => labels.map((n) => n.textContent?.trim() ?? ''),
  );

/** The participants a sequence diagram shows, sorted (Mermaid draws each twice: top and bottom). */
export const sequenceActors = async (page: Page, machine: string) =>
  [
    ...new Set(
      await page.$$eval(`${section(machine)} .sequence-diagram svg text.actor`, (t) =>
        t.map((e) => e.textContent?.trim() ?? ''),
      ),
    ),
  ].sort();
