// The bodies /auth/* accepts, as JSON schemas: the route checks them, the service gets their types.
import { Type, type Static } from 'typebox'

export const LoginBody = Type.Object({
  username: Type.String(),
  password: Type.String()
}, { additionalProperties: false })
export type LoginBody = Static<typeof LoginBody>

export const MfaBody = Type.Object({
  mfa_token: Type.String(),
  code: Type.String()
}, { additionalProperties: false })
export type MfaBody = Static<typeof MfaBody>

export const PasswordBody = Type.Object({
  current_password: Type.String(),
  new_password: Type.String(),
  /** the TOTP code; required when the user has TOTP */
  code: Type.Optional(Type.String())
}, { additionalProperties: false })
export type PasswordBody = Static<typeof PasswordBody>
