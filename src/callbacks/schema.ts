/**
 * What each callback's body must hold, with the types and lengths of the vendor's guide. Bodies
 * reach these schemas with their property names already in camelCase (see body.ts).
 *
 * Scalars are read the way ASP.NET Core reads them by default, since the vendor's server and
 * sample are built on it: a whole number may come as a JSON number or as a string of digits.
 * Booleans are different: `isAuthorized` must be JSON `true` or `false`. It decides whether a
 * sign-in is approved, so nothing is guessed there; a server that sends "true" as a string gets a
 * 400 and the sign-in stays waiting, which is the safe side.
 */
import { z } from 'zod';
import { isPngBase64, nextChangeMs } from '../nopass/picture.ts';

/** A whole number, as a JSON number or a string of digits, within .NET's `int`. */
const int32 = z
  .union([z.number(), z.string().regex(/^-?\d{1,10}$/, 'expected a whole number')])
  .transform(Number)
  .pipe(z.number().int().min(-2_147_483_648).max(2_147_483_647));

const authId = z.string().min(1).max(256);

/** Absent and null both mean "not given". */
const optionalText = (max: number) =>
  z
    .string()
    .max(max)
    .nullish()
    .transform((value) => value ?? undefined);

export const confirmPreRegistrationSchema = z.object({
  // Shorter than 64 characters, case-sensitive (vendor's guide).
  adminId: z.string().min(1).max(63),
  // r + 1 is sent back, so r must leave room for it within an int.
  r: int32.pipe(z.number().max(2_147_483_646)),
});

export const confirmRegistrationSchema = z.object({
  // The portal's NoPass settings: not used by the bridge, so any string will do (the body's own
  // size limit bounds it).
  settings: z.string().nullish(),
  portalId: z.string().min(1).max(256),
  authToken: z.string().min(1).max(256),
});

export const updatePictureSchema = z.object({
  authId,
  image: z.string().refine(isPngBase64, 'expected base64 of a PNG picture'),
  nextChange: nextChangeMs,
});

export const authorizedUserSchema = z.object({
  authId,
  isAuthorized: z.boolean(),
  // Plain text to show the user on refusal, never markup.
  reason: optionalText(2084),
  // Whom NoPass approved. Only a social network sign-in, which starts without a user id, needs
  // it (and takes its subject from it); any other sign-in keeps the user id it started with.
  userId: optionalText(36),
});

const otp = z.string().min(1).max(2084);
const portalId = z.string().min(1).max(256);
// The user's login name (vendor's guide: at most 36); empty only for social registrations,
// which the bridge does not start, so it is required here.
const userId = z.string().min(1).max(36);

export const validateUserRegistrationSchema = z.object({
  otp,
  givenName: optionalText(2084),
  surName: optionalText(2084),
  phoneNumber: optionalText(2084),
  email: optionalText(2084),
  login: optionalText(2084),
  profileImageUrl: optionalText(2084),
});

export const confirmUserRegistrationSchema = z.object({
  otp,
  // The link the registration used: informative only.
  registerLink: optionalText(2084),
});

/**
 * One field of UpdateUser. `forbiddenStore` must be a JSON boolean like `isAuthorized`; absent
 * or null means false.
 */
const fieldUpdate = z
  .object({
    newValue: optionalText(2084),
    forbiddenStore: z
      .boolean()
      .nullish()
      .transform((value) => value ?? false),
  })
  .nullish()
  .transform((value) => value ?? undefined);

export const updateUserSchema = z.object({
  userId,
  portalId,
  updates: z
    .object({
      givenName: fieldUpdate,
      surName: fieldUpdate,
      phoneNumber: fieldUpdate,
      email: fieldUpdate,
      profileImageUrl: fieldUpdate,
      locale: fieldUpdate,
      login: fieldUpdate,
    })
    .nullish()
    .transform((value) => value ?? {}),
});

export const deleteUserSchema = z.object({ userId, portalId });
