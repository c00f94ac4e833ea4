/**
 * The pages' stylesheet and script, served from views/static, plus the operator's branding: a
 * small stylesheet with the accent colour and the logo file. The set of files is fixed and
 * small, so they are read once at start-up; a missing logo file stops start-up.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import Router from '@koa/router';
import { SettingsError, type Branding } from '../settings/index.ts';
import { VIEWS_DIR } from './paths.ts';

const FILES: Record<string, string> = {
  'bridge.css': 'text/css; charset=utf-8',
  'picture.js': 'text/javascript; charset=utf-8',
  'registration.js': 'text/javascript; charset=utf-8',
};

const LOGO_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

function readLogo(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new SettingsError('BRAND_LOGO_FILE', `cannot read ${path}: ${(error as Error).message}`);
  }
}

export function createStaticRouter(branding: Branding): Router {
  const router = new Router({ prefix: '/static' });
  const serve = (name: string, type: string, body: Buffer | string): void => {
    router.get(`/${name}`, (ctx) => {
      ctx.type = type;
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = body;
    });
  };

  for (const [name, type] of Object.entries(FILES)) {
    serve(name, type, readFileSync(`${VIEWS_DIR}static/${name}`));
  }
  if (branding.color) {
    serve('brand.css', 'text/css; charset=utf-8', `:root { --accent: ${branding.color}; }\n`);
  }
  if (branding.logoFile) {
    const type = LOGO_TYPES[extname(branding.logoFile).toLowerCase()] ?? 'image/png';
    serve('logo', type, readLogo(branding.logoFile));
  }
  return router;
}
