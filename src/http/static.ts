/**
 * The pages' stylesheet and script, served from views/static with long-lived caching. The set
 * of files is fixed and small, so they are read once at start-up.
 */
import { readFileSync } from 'node:fs';
import Router from '@koa/router';
import { VIEWS_DIR } from './views.ts';

const FILES: Record<string, string> = {
  'bridge.css': 'text/css; charset=utf-8',
  'picture.js': 'text/javascript; charset=utf-8',
};

export function createStaticRouter(): Router {
  const router = new Router({ prefix: '/static' });
  for (const [name, type] of Object.entries(FILES)) {
    const body = readFileSync(`${VIEWS_DIR}static/${name}`);
    router.get(`/${name}`, (ctx) => {
      ctx.type = type;
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = body;
    });
  }
  return router;
}
