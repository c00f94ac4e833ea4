/**
 * GET /interaction/:uid/events: the picture page's Server-Sent Events stream.
 *
 * Every message is the whole current state of the sign-in (see state-view.ts), sent first on
 * connect and again whenever the bus says something happened to this authId, or when the
 * picture's deadline passes. A late or reconnecting listener therefore never misses a verdict,
 * and a message repeated or lost in between changes nothing. A comment line every 15 s keeps
 * proxies from closing an idle stream.
 *
 * A browser's EventSource gives up for good on an error status, so trouble is never answered
 * with one here. When the sign-in's state is gone (the login record or the interaction itself),
 * the stream says `expired` and the page offers to start again. When the store is unreachable,
 * or this instance is shutting down, the stream sends `retry` and ends: the browser reconnects
 * shortly, through the load balancer to an instance that can answer.
 */
import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { StoreUnavailable } from '../http/errors.ts';
import { bindLog, requestLog } from '../http/request-id.ts';
import { authRef } from '../log.ts';
import type { LoginEvent, PendingLogin } from '../state/types.ts';
import type { InteractionDeps } from './deps.ts';
import { InteractionNotFound, loadInteraction } from './interaction.ts';
import { loginView, type LoginView } from './state-view.ts';

export const HEARTBEAT_MS = 15_000;
/** How soon a browser reconnects after this instance ended its stream to shut down. */
export const RECONNECT_MS = 1000;

function message(view: LoginView): string {
  return `event: state\ndata: ${JSON.stringify(view)}\n\n`;
}

const LOST = message({ status: 'expired', pictureSeq: 0, remainingMs: 0 });
const COME_BACK = `retry: ${RECONNECT_MS}\n\n`;

function eventStreamHeaders(ctx: Context): void {
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Accel-Buffering', 'no');
}

/** A stream that says one thing and ends. */
function answerOnce(ctx: Context, text: string): void {
  eventStreamHeaders(ctx);
  ctx.body = text;
}

export async function streamEvents(deps: InteractionDeps, ctx: Context): Promise<void> {
  if (deps.closing?.aborted) {
    answerOnce(ctx, COME_BACK);
    return;
  }
  let interaction;
  let first: PendingLogin | undefined;
  try {
    interaction = await loadInteraction(deps.provider, ctx);
    first = await deps.store.getLoginByInteraction(interaction.uid);
  } catch (error) {
    if (error instanceof InteractionNotFound) {
      answerOnce(ctx, LOST);
      return;
    }
    if (!(error instanceof StoreUnavailable)) throw error;
    requestLog(ctx, deps.log).warn({ err: error }, 'event stream deferred: store unavailable');
    answerOnce(ctx, COME_BACK);
    return;
  }
  if (!first) {
    answerOnce(ctx, LOST);
    return;
  }
  const { authId } = first;
  bindLog(ctx, { auth_ref: authRef(authId) });
  const log = requestLog(ctx, deps.log);

  const stream = new PassThrough();
  eventStreamHeaders(ctx);
  ctx.body = stream;
  ctx.req.socket.setNoDelay(true);

  let closed = false;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let lastSent = '';
  let lastStatus = '';
  // How soon to reconnect after a dropped connection: sent with the first message, in the same
  // write (one system call fewer on every stream).
  let preamble = 'retry: 2000\n\n';
  const send = (text: string): void => {
    stream.write(preamble + text);
    preamble = '';
  };
  deps.metrics.eventStreams.inc();

  const close = (): void => {
    if (closed) return;
    closed = true;
    deps.metrics.eventStreams.dec();
    deps.closing?.removeEventListener('abort', shutDown);
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
      log.warn({ err: error }, 'event stream read failed');
      return;
    }
    if (closed) return;
    if (!login) {
      // State lost (expired record): the page offers to start again.
      send(LOST);
      close();
      return;
    }
    const now = deps.now();
    const view = loginView(login, now);
    const text = message(view);
    if (text !== lastSent) send(text);
    lastSent = text;
    // A sign-in this page watched run out of time. Counted here, where it is seen happen: an
    // expiry is derived from the clock, and no other part of the bridge is there at that moment.
    if (view.status === 'expired' && lastStatus === 'waiting') {
      deps.metrics.signInsEnded.inc({ outcome: 'expired' });
      log.info('sign-in expired');
    }
    lastStatus = view.status;
    if (view.status !== 'waiting') {
      close();
      return;
    }
    clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(() => void push(), Math.max(0, login.deadline - now) + 50);
    deadlineTimer.unref();
  };

  const heard = (event: LoginEvent): void => {
    // The callback's request id, possibly another instance's: what joins its log line to this
    // page's. Verdicts are info; pictures change every few seconds, so they are debug.
    const fields = { event_kind: event.kind, callback_request_id: event.requestId };
    if (event.kind === 'verdict') log.info(fields, 'login event received');
    else log.debug(fields, 'login event received');
    void push();
  };
  const unsubscribe = deps.bus.subscribe(authId, heard);
  const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  const shutDown = (): void => {
    if (!closed) stream.write(COME_BACK);
    close();
  };
  deps.closing?.addEventListener('abort', shutDown, { once: true });
  ctx.req.on('close', close);
  await push();
}
