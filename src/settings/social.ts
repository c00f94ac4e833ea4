/**
 * `NOPASS_SOCIAL`: the social networks the user id page offers besides a NoPass user id, as a
 * comma-separated list of `google` and `facebook` (the two NoPass supports). Unset or empty
 * offers none.
 */
import type { SocialNetwork } from '../state/types.ts';
import { SettingsError } from './index.ts';

export const SOCIAL_NETWORKS: readonly SocialNetwork[] = ['google', 'facebook'];

export function socialSettings(env: Record<string, string | undefined>): SocialNetwork[] {
  const raw = env.NOPASS_SOCIAL?.trim();
  if (!raw) return [];
  const chosen: SocialNetwork[] = [];
  for (const item of raw.split(',')) {
    const name = item.trim().toLowerCase();
    if (name === '') continue;
    if (!(SOCIAL_NETWORKS as readonly string[]).includes(name)) {
      throw new SettingsError(
        'NOPASS_SOCIAL',
        `expected a comma-separated list of ${SOCIAL_NETWORKS.join(' and ')}, got "${item.trim()}"`,
      );
    }
    if (!chosen.includes(name as SocialNetwork)) chosen.push(name as SocialNetwork);
  }
  return chosen;
}
