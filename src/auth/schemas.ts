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
