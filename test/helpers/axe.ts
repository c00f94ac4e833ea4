/**
 * An automated accessibility audit of a page: axe-core (from npm, nothing downloaded) injected
 * into the page, WCAG 2 A and AA rules plus axe's best practices. The page's context must be
 * created with `bypassCSP: true` so the script may run; the page's own policy is unchanged.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** The serious and critical violations on the page, one readable line each. */
export async function audit(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate<{ violations: Violation[] }>(
    'axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "best-practice"] })',
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target).join(' ')}`);
}
