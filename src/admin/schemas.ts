// The bodies /admin/* accepts, as JSON schemas: the route checks them and gets their types.
import { Type, type Static } from 'typebox'

const name = Type.String({ minLength: 1 })

export const AddUserBody = Type.Object({
  username: name,
  role: name,
  /** absent: a one-time password is generated and returned once */
  password: Type.Optional(name)
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
