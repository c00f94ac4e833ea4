/**
 * The report's chart: complete sign-ins per second against concurrency, the bridge beside the
 * bare provider. vega-lite describes it, vega draws it as SVG without a browser, and headless
 * Chromium (Debian's, the one the browser tests use; nothing is downloaded) turns the SVG into
 * a PNG with real fonts.
 */
import { writeFile } from 'node:fs/promises';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { launchChromium } from '../test/helpers/chromium.ts';

export interface ChartPoint {
  concurrency: number;
  perSecond: number;
  min: number;
  max: number;
  target: string;
}

export async function chartSvg(points: ChartPoint[], title: string): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 320,
    data: { values: points },
    encoding: {
      x: {
        field: 'concurrency',
        type: 'quantitative',
        title: 'concurrent sign-ins (closed loop)',
        scale: { type: 'log', base: 2 },
        axis: { values: [...new Set(points.map((point) => point.concurrency))] },
      },
      color: {
        field: 'target',
        type: 'nominal',
        title: null,
        legend: { orient: 'top-left', labelLimit: 400 },
      },
    },
    layer: [
      {
        mark: { type: 'errorband', opacity: 0.25 },
        encoding: {
          y: { field: 'min', type: 'quantitative', title: 'complete sign-ins per second' },
          y2: { field: 'max' },
        },
      },
      {
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: { y: { field: 'perSecond', type: 'quantitative' } },
      },
    ],
    config: { font: 'DejaVu Sans', background: 'white' },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

/** Writes the chart as PNG; returns false (after writing the SVG instead) without Chromium. */
export async function writeChartPng(svg: string, pngPath: string): Promise<boolean> {
  let browser;
  try {
    browser = await launchChromium();
  } catch {
    await writeFile(pngPath.replace(/\.png$/, '.svg'), svg);
    return false;
  }
  try {
    const page = await browser.newPage({ deviceScaleFactor: 2 });
    await page.setContent(`<body style="margin:0;background:white">${svg}</body>`);
    await page.locator('svg').first().screenshot({ path: pngPath });
    return true;
  } finally {
    await browser.close();
  }
}
