/**
 * Registering with NoPass from the hosted pages, in the middle of a sign-in:
 *
 *   GET  /interaction/:uid/register       the form: user id and the configured profile fields
 *   POST /interaction/:uid/register       the policy's checks, PreRegisterUser, then the browser
 *                                         goes to NoPass's registerLink (the app takes over)
 *   GET  /interaction/:uid/register/:id   the redirectUrl NoPass sends the browser back to
 *
 * The form lives under the interaction path, so only the browser holding the interaction
 * cookie can start a registration. The way back is bound to that browser by a cookie of its
 * own (signed, scoped to the exact return path, holding a secret whose hash is stored with the
 * registration) and works once. Meanwhile NoPass calls ValidateUserRegistration and
 * ConfirmUserRegistration (callbacks/), which decide and create the user. Coming back, the
 * browser sees one of: still waiting for NoPass (the page reloads itself), refused (why, and a
 * way to try again), signed in (the interaction is still alive: the relying party gets its
 * code), or "registration complete" with a link to the application (the interaction expired).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { Interaction } from 'oidc-provider';
import { BridgeError, NotFound } from '../http/errors.ts';
import { requestLog } from '../http/request-id.ts';
import { interactionPath } from '../oidc/provider.ts';
import type { PendingRegistration } from '../state/types.ts';
import { readRegistrationForm, type FormProblem } from '../users/registration-policy.ts';
import { FORM_KEYS } from '../users/profile.ts';
import type { InteractionDeps } from './deps.ts';
import { InteractionNotFound, loadInteraction } from './interaction.ts';
import type { PageMessage } from './user-id.ts';

/** The cookie binding the way back to the browser that started the registration. */
const COOKIE = 'nopass.registration';

/** How often the "waiting for NoPass" page reloads itself, in seconds. */
export const WAITING_REFRESH_S = 3;

/** What the page after the way back says. */
type ReturnState = 'waiting' | 'refused' | 'complete' | 'expired' | 'elsewhere' | 'used';

function html(ctx: Context, body: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

function registrationPath(uid: string, id?: string): string {
  return `${interactionPath(uid)}/register${id === undefined ? '' : `/${id}`}`;
}

function hashOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

function sameHash(a: string, b: string): boolean {
  const [left, right] = [Buffer.from(a), Buffer.from(b)];
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The end user's address for NoPass: `ctx.ip` honours TRUST_PROXY; IPv4 is shown as IPv4. */
function clientIp(ctx: Context): string {
  return /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ctx.ip)?.[1] ?? ctx.ip;
}

function assertEnabled(deps: InteractionDeps): void {
  if (!deps.settings.registration.enabled) {
    throw new NotFound('Registration is not offered here. Sign in with your NoPass user id.');
  }
}

/** Where "back to the application" goes: the client's own page, else its redirect's origin. */
async function applicationOf(
  deps: InteractionDeps,
  interaction: Interaction,
): Promise<{ clientId: string; clientName?: string; applicationUrl?: string }> {
  const { client_id: clientParam } = interaction.params;
  const clientId = typeof clientParam === 'string' ? clientParam : '';
  const client = await deps.provider.Client.find(clientId);
  const candidates = [client?.clientUri, interaction.params.redirect_uri];
  let applicationUrl: string | undefined;
  for (const candidate of candidates) {
    if (typeof candidate !== 'string' || !URL.canParse(candidate)) continue;
    const url = new URL(candidate);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    applicationUrl = candidate === client?.clientUri ? url.href : `${url.origin}/`;
    break;
  }
  return {
    clientId,
    ...(client?.clientName ? { clientName: client.clientName } : {}),
    ...(applicationUrl ? { applicationUrl } : {}),
  };
}

interface FormPage {
  values?: Record<string, unknown>;
  problems?: FormProblem[];
  error?: PageMessage;
}

function renderForm(
  deps: InteractionDeps,
  ctx: Context,
  uid: string,
  page: FormPage,
  status = 200,
): void {
  const { registration } = deps.settings;
  const problemOf = (field: string): PageMessage | undefined =>
    page.problems?.find((problem) => problem.field === field)?.message;
  const valueOf = (field: string): string => {
    const value = page.values?.[field];
    return typeof value === 'string' ? value : '';
  };
  html(
    ctx,
    deps.views.page(ctx, 'register', {
      uid,
      userId: valueOf('userId'),
      userIdProblem: problemOf('userId'),
      userIdMin: registration.userIdMinLength,
      fields: registration.fields.map((name) => ({
        name,
        type:
          FORM_KEYS[name] === 'email'
            ? 'email'
            : FORM_KEYS[name] === 'phoneNumber'
              ? 'tel'
              : 'text',
        required: registration.required.includes(name),
        value: valueOf(name),
        problem: problemOf(name),
      })),
      emailDomains: registration.emailDomains.join(', '),
      error: page.error,
    }),
    status,
  );
}

/** GET /interaction/:uid/register */
export async function showRegistration(deps: InteractionDeps, ctx: Context): Promise<void> {
  assertEnabled(deps);
  const interaction = await loadInteraction(deps.provider, ctx);
  renderForm(deps, ctx, interaction.uid, {});
}

/** POST /interaction/:uid/register */
export async function submitRegistration(deps: InteractionDeps, ctx: Context): Promise<void> {
  assertEnabled(deps);
  const interaction = await loadInteraction(deps.provider, ctx);
  const log = requestLog(ctx, deps.log);
  const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
  const read = readRegistrationForm(body, deps.settings.registration);
  if (!read.ok) {
    renderForm(deps, ctx, interaction.uid, { values: body, problems: read.problems }, 400);
    return;
  }
  const { userId, profile } = read.form;
  // Said plainly rather than after a trip through the app: registration names a new user id,
  // so whether one is taken cannot be kept secret from the person choosing it.
  if (await deps.store.getUser(userId)) {
    const problems = [{ field: 'userId' as const, message: { key: 'register.problems.taken' } }];
    renderForm(deps, ctx, interaction.uid, { values: body, problems }, 400);
    return;
  }

  const id = randomBytes(18).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  let started;
  try {
    started = await deps.nopass.preRegisterUser(
      {
        userId,
        clientIP: clientIp(ctx),
        redirectUrl: `${deps.settings.issuer}${registrationPath(interaction.uid, id)}`,
        data: {
          givenName: profile.givenName,
          surName: profile.surName,
          phoneNumber: profile.phoneNumber,
          email: profile.email,
        },
      },
      { log },
    );
  } catch (error) {
    if (!(error instanceof BridgeError)) throw error;
    log.warn({ err_code: error.code }, 'registration could not start');
    const key = error.code === 'nopass_refused' ? 'register.refused' : `errors.${error.code}`;
    const page = { values: body, error: { key, fallback: error.description } };
    renderForm(deps, ctx, interaction.uid, page, error.status);
    return;
  }

  const now = deps.now();
  const { ttlMs } = deps.settings.registration;
  const registration: PendingRegistration = {
    otp: started.otp,
    id,
    userId,
    requested: profile,
    status: 'started',
    browserRef: hashOf(secret),
    interactionUid: interaction.uid,
    ...(await applicationOf(deps, interaction)),
    createdAt: now,
    expiresAt: now + ttlMs,
  };
  await deps.store.createRegistration(registration, ttlMs);
  ctx.cookies.set(COOKIE, secret, {
    signed: true,
    httpOnly: true,
    // Lax: sent on NoPass's top-level redirect back, never on a cross-site subrequest.
    sameSite: 'lax',
    secure: ctx.secure,
    path: registrationPath(interaction.uid, id),
    // A confirmed registration is kept another lifetime for the way back.
    maxAge: 2 * ttlMs + 60_000,
  });
  log.info('registration started');
  ctx.status = 303;
  ctx.redirect(started.registerLink);
}

/**
 * Whether `registration` may be shown to this browser: its cookie holds the secret whose hash
 * the registration keeps.
 */
function fromThisBrowser(ctx: Context, registration: PendingRegistration): boolean {
  const secret = ctx.cookies.get(COOKIE, { signed: true });
  return secret !== undefined && sameHash(hashOf(secret), registration.browserRef);
}

/**
 * GET /interaction/:uid/register/:id/state: whether the registration still waits for NoPass,
 * polled by the waiting page's script. Anything else (answered, expired, another browser) is
 * `waiting: false`, and the reloaded page says which.
 */
export async function registrationState(deps: InteractionDeps, ctx: Context): Promise<void> {
  const { uid = '', id = '' } = ctx.params as { uid?: string; id?: string };
  const registration = await deps.store.getRegistrationById(id);
  const waiting =
    registration !== undefined &&
    registration.interactionUid === uid &&
    fromThisBrowser(ctx, registration) &&
    (registration.status === 'started' || registration.status === 'validated');
  ctx.body = { waiting };
}

/** GET /interaction/:uid/register/:id: the browser is back from NoPass. */
export async function returnFromRegistration(deps: InteractionDeps, ctx: Context): Promise<void> {
  const { uid = '', id = '' } = ctx.params as { uid?: string; id?: string };
  const log = requestLog(ctx, deps.log);
  const alive = await loadInteraction(deps.provider, ctx).catch((error: unknown) => {
    if (error instanceof InteractionNotFound) return undefined;
    throw error;
  });
  const show = (state: ReturnState, status: number, found?: PendingRegistration): void => {
    html(
      ctx,
      deps.views.page(ctx, 'registered', {
        state,
        uid,
        alive: alive !== undefined,
        path: registrationPath(uid, id),
        refreshSeconds: state === 'waiting' ? WAITING_REFRESH_S : undefined,
        refusal: found?.refusal,
        clientName: found?.clientName,
        applicationUrl: found?.applicationUrl,
        minutes: Math.ceil(deps.settings.registration.ttlMs / 60_000),
      }),
      status,
    );
  };

  const registration = await deps.store.getRegistrationById(id);
  if (!registration || registration.interactionUid !== uid) {
    show('expired', 410);
    return;
  }
  // Said first: the cookie itself is gone once the way back has been used.
  if (registration.returnedAt !== undefined) {
    show('used', 400, registration);
    return;
  }
  if (!fromThisBrowser(ctx, registration)) {
    show('elsewhere', 400);
    return;
  }

  if (registration.status === 'started' || registration.status === 'validated') {
    show('waiting', 200, registration);
    return;
  }
  if (registration.status === 'refused') {
    show('refused', 400, registration);
    return;
  }

  const finished = await deps.store.finishRegistration(registration.otp, deps.now());
  if (!finished.ok) {
    show('used', 400, registration);
    return;
  }
  ctx.cookies.set(COOKIE, null, { path: registrationPath(uid, id) });
  log.info({ resumed: alive !== undefined }, 'registration finished');
  if (!alive) {
    show('complete', 200, registration);
    return;
  }

  // NoPass confirmed the registration this browser started: it is signed in as that user.
  await deps.store.recordSignIn(registration.userId, deps.now());
  await deps.provider.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId: registration.userId, amr: ['nopass'] } },
    { mergeWithLastSubmission: false },
  );
  ctx.respond = false;
}
