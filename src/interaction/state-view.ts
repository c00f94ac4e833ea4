/**
 * What a picture page and its event stream show for one pending login, derived from the stored
 * record and the clock. The page and the stream use this one function, so a reload and a live
 * update can never disagree.
 */
import { loginStatus } from '../state/login-status.ts';
import type { LoginStatus, PendingLogin } from '../state/types.ts';
import { interactionPath } from '../oidc/provider.ts';

export interface LoginView {
  status: LoginStatus;
  /** `data:` URL of the current picture, while waiting. */
  picture?: string;
  pictureSeq: number;
  /** Milliseconds left before the current picture changes, while waiting. */
  remainingMs: number;
  /** NoPass's reason, when refused: plain text. */
  reason?: string;
  /** Where the browser goes next once approved. */
  next?: string;
}

export function loginView(login: PendingLogin, now: number): LoginView {
  const status = loginStatus(login, now);
  const view: LoginView = {
    status,
    pictureSeq: login.pictureSeq,
    remainingMs: Math.max(0, login.pictureAt + login.nextChange - now),
  };
  // A social network sign-in with a link to the network shows no picture (picture.pug).
  if (status === 'waiting' && login.loginUrl === undefined) {
    view.picture = `data:image/png;base64,${login.image}`;
  }
  if (status === 'refused' && login.reason) view.reason = login.reason;
  if (status === 'approved') view.next = `${interactionPath(login.interactionUid)}/complete`;
  return view;
}
