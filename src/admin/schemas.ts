// The bodies /admin/* accepts, as JSON schemas: the route checks them and gets their types.
import { Type, type Static } from 'typebox'

const name = Type.String({ minLength: 1 })

export const AddUserBody = Type.Object({
  username: name,
  role: name,
  /** absent: a one-time password is generated and returned once */
  password: Type.Optional(name),
  /** the given password is one-time: its owner must choose a new one at the next sign-in */
  temporary: Type.Optional(Type.Boolean())
}, { additionalProperties: false })
export type AddUserBody = Static<typeof AddUserBody>

export const SetRoleBody = Type.Object({ role: name }, { additionalProperties: false })
export type SetRoleBody = Static<typeof SetRoleBody>

export const CreateKeyBody = Type.Object({
  name,
  role: name,
  /** a duration such as 90d, 12h or 30m; absent: the key never expires */
  expires_in: Type.Optional(name)
}, { additionalProperties: false })
export type CreateKeyBody = Static<typeof CreateKeyBody>

export const SetPasswordBody = Type.Object({
  password: name,
  /** one-time: its owner must choose a new one at the next sign-in */
  temporary: Type.Optional(Type.Boolean())
}, { additionalProperties: false })
export type SetPasswordBody = Static<typeof SetPasswordBody>

/** GET /admin/audit's query string */
export const AuditQuery = Type.Object({
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
  /** 1 to 1000 (default 100); a query string carries it as digits */
  limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$' }))
}, { additionalProperties: false })
export type AuditQuery = Static<typeof AuditQuery>

export const RotateKeyBody = Type.Object({
  /** how long the old key keeps working: a duration such as 24h or 30m, or 0; absent: 24h */
  grace: Type.Optional(name)
}, { additionalProperties: false })
export type RotateKeyBody = Static<typeof RotateKeyBody>

export const UsageQuery = Type.Object({
  /** the period summed, such as 30d, 12h or 2w (default 30d) */
  since: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}[mhdw]$' })),
  by: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('key'), Type.Literal('model'), Type.Literal('upstream'),
    Type.Literal('day')]))
}, { additionalProperties: false })
export type UsageQuery = Static<typeof UsageQuery>
