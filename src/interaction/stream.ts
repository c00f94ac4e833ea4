/**
 * GET /interaction/:uid/events: the picture page's Server-Sent Events stream.
 *
 * Every message is the whole current state of the sign-in (see state-view.ts), sent first on
 * connect and again whenever the bus says something happened to this authId, or when the
 * picture's deadline passes. A late or reconnecting listener therefore never misses a verdict,
 * and a message repeated or lost in between changes nothing. A comment line every 15 s keeps
 * proxies from closing an idle stream.
 */
import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { InteractionDeps } from './deps.ts';
import { loadInteraction } from './interaction.ts';
import { loginView, type LoginView } from './state-view.ts';

export const HEARTBEAT_MS = 15_000;

function message(view: LoginView): string {
  return `event: state\ndata: ${JSON.stringify(view)}\n\n`;
}

export async function streamEvents(deps: InteractionDeps, ctx: Context): Promise<void> {
  const interaction = await loadInteraction(deps.provider, ctx);
  const first = await deps.store.getLoginByInteraction(interaction.uid);
  if (!first) {
    ctx.status = 404;
    ctx.body = { error: 'login_not_found', error_description: 'No sign-in is in progress here.' };
    return;
  }
  const { authId } = first;

  const stream = new PassThrough();
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.body = stream;
  ctx.req.socket.setNoDelay(true);

  let closed = false;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let lastSent = '';

  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(heartbeat);
    clearTimeout(deadlineTimer);
    stream.end();
  };

  const push = async (): Promise<void> => {
    if (closed) return;
    let login;
    try {
      login = await deps.store.getLogin(authId);
    } catch (error) {
      deps.log.warn({ err: error, interaction_uid: interaction.uid }, 'event stream read failed');
      return;
    }
    if (closed) return;
    if (!login) {
      // State lost (expired record): the page offers to start again.
      stream.write(message({ status: 'expired', pictureSeq: 0, remainingMs: 0 }));
      close();
      return;
    }
    const now = deps.now();
    const view = loginView(login, now);
    const text = message(view);
    if (text !== lastSent) stream.write(text);
    lastSent = text;
    if (view.status !== 'waiting') {
      close();
      return;
    }
    clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(() => void push(), Math.max(0, login.deadline - now) + 50);
    deadlineTimer.unref();
  };

  const unsubscribe = deps.bus.subscribe(authId, () => void push());
  const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  ctx.req.on('close', close);
  stream.write('retry: 2000\n\n');
  await push();
}
